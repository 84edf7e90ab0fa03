import { Migration } from '@mikro-orm/migrations';

/**
 * Each administered dose as a complete Schedule III record: who gave it and when it was given (not
 * when it was typed), vital signs before, about 40 minutes after and at discharge, the discharge
 * time and the prescriber's attestation that the patient was fit to leave, and the reason for a dose
 * closer to another than the rules allow. Doses recorded before this keep what they held: given by
 * whoever completed them, when they were completed.
 *
 * Score alerts also come from dosing sessions (VITAL_SIGNS): an alert has a measure or a session.
 */
export class Migration20261201181500_dose_records extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table treatment_session
        add column administered_at timestamptz,
        add column administered_by_id uuid references clinician (id),
        add column heart_rate_before smallint check (heart_rate_before between 20 and 250),
        add column oxygen_saturation_before smallint check (oxygen_saturation_before between 50 and 100),
        add column heart_rate_after smallint check (heart_rate_after between 20 and 250),
        add column oxygen_saturation_after smallint check (oxygen_saturation_after between 50 and 100),
        add column systolic_at_discharge smallint,
        add column diastolic_at_discharge smallint,
        add column heart_rate_at_discharge smallint check (heart_rate_at_discharge between 20 and 250),
        add column oxygen_saturation_at_discharge smallint check (oxygen_saturation_at_discharge between 50 and 100),
        add column discharged_at timestamptz,
        add column fit_to_leave_attested boolean,
        add column dose_spacing_override_reason text;

      alter table treatment_session disable trigger dosing_record_kept;
      update treatment_session set administered_at = completed_at, administered_by_id = completed_by_id
        where kind = 'DOSING' and completed_at is not null;
      alter table treatment_session enable trigger dosing_record_kept;

      alter table treatment_session add constraint treatment_session_dose_given check (
        kind <> 'DOSING' or completed_at is null or (administered_at is not null and administered_by_id is not null));
      -- Doses recorded from now on hold the whole monitoring record; earlier ones never had it.
      alter table treatment_session add constraint treatment_session_dose_monitored check (
        kind <> 'DOSING' or completed_at is null or (systolic_after is not null and diastolic_after is not null
          and systolic_at_discharge is not null and diastolic_at_discharge is not null
          and discharged_at >= administered_at and fit_to_leave_attested)) not valid;
      create index treatment_session_doses_idx on treatment_session (patient_id, administered_at) where administered_at is not null;
      create index treatment_session_prescription_idx on treatment_session (prescription_id) where prescription_id is not null;

      alter table score_alert
        alter column measure_id drop not null,
        alter column instrument drop not null,
        add column session_id uuid references treatment_session (id),
        add constraint score_alert_source check ((measure_id is null) <> (session_id is null)),
        add constraint score_alert_vital_signs check ((kind = 'VITAL_SIGNS') = (session_id is not null));
      alter table score_alert drop constraint score_alert_kind_check;
      alter table score_alert add constraint score_alert_kind_check
        check (kind in ('SUICIDAL_IDEATION', 'SEVERE_SYMPTOMS', 'WORSENING', 'RESPONSE', 'REMISSION', 'RELAPSE', 'VITAL_SIGNS'));
      create index score_alert_session_idx on score_alert (session_id) where session_id is not null;
    `);
  }
}
