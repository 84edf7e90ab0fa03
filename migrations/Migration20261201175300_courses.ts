import { Migration } from '@mikro-orm/migrations';

/**
 * Courses of treatment (CLINICAL.md, "Courses and dosing safety"): a patient's care runs in courses,
 * from referral to discharge, and every clinical record belongs to the course open when it was
 * recorded. Existing records all belong to each patient's course 1, opened when the patient was
 * registered (or at their earliest record, if that is older) and closed, for a patient discharged
 * already, when the patient's row last changed.
 *
 * RESPONSE and REMISSION become once per course and instrument, and RELAPSE (once per remission,
 * so once per course) joins them. A consent can be withdrawn, once, with a reason; like the
 * assessment it answers, it is otherwise never changed, and never deleted.
 */
export class Migration20261201175300_courses extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table treatment_course (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        number smallint not null check (number >= 1),
        opened_at timestamptz not null,
        opened_by_id uuid references clinician (id),
        closed_at timestamptz,
        closed_by_id uuid references clinician (id),
        discharge_reason text,
        unique (patient_id, number),
        check ((closed_at is null) = (discharge_reason is null)),
        check (closed_at is null or closed_at >= opened_at)
      );
      -- A patient has at most one open course.
      create unique index treatment_course_open_idx on treatment_course (patient_id) where closed_at is null;

      insert into treatment_course (id, patient_id, number, opened_at, opened_by_id, closed_at, discharge_reason)
      select gen_random_uuid(), p.id, 1,
        least(p.created_at,
          (select min(assessed_at) from eligibility_assessment where patient_id = p.id),
          (select min(recorded_at) from consent where patient_id = p.id),
          (select min(prescribed_at) from prescription where patient_id = p.id),
          (select min(created_at) from treatment_plan where patient_id = p.id),
          (select min(created_at) from treatment_session where patient_id = p.id),
          (select min(created_at) from measure where patient_id = p.id),
          (select min(created_at) from score_alert where patient_id = p.id)),
        p.created_by_id,
        case when p.status = 'DISCHARGED' then p.updated_at end,
        case when p.status = 'DISCHARGED' then 'discharged before courses of treatment were recorded' end
      from patient p;
      update treatment_course set closed_at = opened_at where closed_at < opened_at;
    `);
    for (const table of [
      'eligibility_assessment',
      'consent',
      'prescription',
      'treatment_plan',
      'treatment_session',
      'measure',
      'score_alert',
    ]) {
      this.addSql(`alter table ${table} add column course_id uuid references treatment_course (id);`);
      // Schedule III records refuse edits; filling in the new column is not an edit of what they say.
      if (table === 'prescription')
        this.addSql('alter table prescription disable trigger prescription_kept;');
      if (table === 'treatment_session')
        this.addSql('alter table treatment_session disable trigger dosing_record_kept;');
      this.addSql(
        `update ${table} t set course_id = c.id from treatment_course c where c.patient_id = t.patient_id and c.number = 1;`,
      );
      if (table === 'prescription') this.addSql('alter table prescription enable trigger prescription_kept;');
      if (table === 'treatment_session')
        this.addSql('alter table treatment_session enable trigger dosing_record_kept;');
      this.addSql(`alter table ${table} alter column course_id set not null;`);
      this.addSql(`create index ${table}_course_idx on ${table} (course_id);`);
    }
    this.addSql(`
      -- The course a prescription belongs to is part of what is never edited.
      create or replace function prescription_is_kept() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' then
          if old.voided_at is null and new.voided_at is not null
             and (new.id, new.patient_id, new.course_id, new.medication, new.route, new.dose_mg, new.quantity, new.refills, new.prescribed_by_id, new.prescribed_at, new.replaces_id)
                 is not distinct from
                 (old.id, old.patient_id, old.course_id, old.medication, old.route, old.dose_mg, old.quantity, old.refills, old.prescribed_by_id, old.prescribed_at, old.replaces_id) then
            return new;
          end if;
        end if;
        raise exception 'prescriptions are never deleted or edited (only voided once, with a reason): % refused', tg_op using errcode = 'insufficient_privilege';
      end $$;

      drop index score_alert_once_idx;
      alter table score_alert drop constraint score_alert_kind_check;
      alter table score_alert add constraint score_alert_kind_check
        check (kind in ('SUICIDAL_IDEATION', 'SEVERE_SYMPTOMS', 'WORSENING', 'RESPONSE', 'REMISSION', 'RELAPSE'));
      -- CLINICAL.md: RESPONSE and REMISSION once per course and instrument; RELAPSE once per remission.
      create unique index score_alert_once_idx on score_alert (course_id, instrument, kind)
        where kind in ('RESPONSE', 'REMISSION', 'RELAPSE');
      create index measure_course_history_idx on measure (course_id, instrument, administered_at, id);

      alter table consent
        add column withdrawn_at timestamptz,
        add column withdrawn_by_id uuid references clinician (id),
        add column withdrawal_reason text,
        add constraint consent_withdrawal_complete check (
          (withdrawn_at is null) = (withdrawn_by_id is null) and (withdrawn_at is null) = (withdrawal_reason is null));
      create function consent_is_kept() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' then
          if old.withdrawn_at is null and new.withdrawn_at is not null
             and (new.id, new.patient_id, new.course_id, new.text_version, new.consented_on, new.acknowledges_risks, new.acknowledges_off_label_use,
                  new.acknowledges_integration, new.recorded_by_id, new.recorded_at)
                 is not distinct from
                 (old.id, old.patient_id, old.course_id, old.text_version, old.consented_on, old.acknowledges_risks, old.acknowledges_off_label_use,
                  old.acknowledges_integration, old.recorded_by_id, old.recorded_at) then
            return new;
          end if;
        end if;
        raise exception 'consents are never deleted or edited (only withdrawn once, with a reason): % refused', tg_op using errcode = 'insufficient_privilege';
      end $$;
      create trigger consent_kept before update or delete on consent
        for each row execute function consent_is_kept();
      create trigger consent_no_truncate before truncate on consent
        for each statement execute function consent_is_kept();
    `);
  }
}
