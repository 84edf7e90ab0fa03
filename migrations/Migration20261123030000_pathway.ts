import { Migration } from '@mikro-orm/migrations';

/**
 * The care pathway: eligibility assessments, consents and prescriptions. Assessments and consents are
 * records of what happened and are never changed. Prescriptions of a Schedule III substance are never
 * deleted and never edited; the only change the database accepts is voiding one, once, with a reason.
 */
export class Migration20261123030000_pathway extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table eligibility_assessment (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        contraindications text[] not null,
        cautions text[] not null,
        baseline_systolic smallint not null check (baseline_systolic between 50 and 300),
        baseline_diastolic smallint not null check (baseline_diastolic between 20 and 200),
        decision text not null check (decision in ('ELIGIBLE', 'INELIGIBLE', 'NEEDS_REVIEW')),
        assessed_by_id uuid not null references clinician (id),
        assessed_at timestamptz not null,
        check (decision <> 'ELIGIBLE' or cardinality(contraindications) = 0)
      );
      create index eligibility_assessment_patient_idx on eligibility_assessment (patient_id, assessed_at);

      create table consent (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        text_version text not null,
        consented_on date not null,
        acknowledges_risks boolean not null,
        acknowledges_off_label_use boolean not null,
        acknowledges_integration boolean not null,
        recorded_by_id uuid not null references clinician (id),
        recorded_at timestamptz not null,
        check (acknowledges_risks and acknowledges_off_label_use and acknowledges_integration)
      );
      create index consent_patient_idx on consent (patient_id, recorded_at);

      create table prescription (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        medication text not null check (medication in ('KETAMINE', 'ESKETAMINE')),
        route text not null check (route in ('IV', 'IM', 'INTRANASAL_ESKETAMINE', 'SUBLINGUAL', 'ORAL')),
        dose_mg numeric(7,2) not null check (dose_mg > 0),
        quantity smallint not null check (quantity > 0),
        refills smallint not null check (refills between 0 and 5),
        prescribed_by_id uuid not null references clinician (id),
        prescribed_at timestamptz not null,
        replaces_id uuid references prescription (id),
        voided_at timestamptz,
        voided_by_id uuid references clinician (id),
        void_reason text,
        check ((voided_at is null) = (voided_by_id is null) and (voided_at is null) = (void_reason is null))
      );
      create index prescription_patient_idx on prescription (patient_id, prescribed_at);

      create function prescription_is_kept() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' then
          if old.voided_at is null and new.voided_at is not null
             and (new.id, new.patient_id, new.medication, new.route, new.dose_mg, new.quantity, new.refills, new.prescribed_by_id, new.prescribed_at, new.replaces_id)
                 is not distinct from
                 (old.id, old.patient_id, old.medication, old.route, old.dose_mg, old.quantity, old.refills, old.prescribed_by_id, old.prescribed_at, old.replaces_id) then
            return new;
          end if;
        end if;
        raise exception 'prescriptions are never deleted or edited (only voided once, with a reason): % refused', tg_op using errcode = 'insufficient_privilege';
      end $$;
      create trigger prescription_kept before update or delete on prescription
        for each row execute function prescription_is_kept();
      create trigger prescription_no_truncate before truncate on prescription
        for each statement execute function prescription_is_kept();
    `);
  }
}
