import { Migration } from '@mikro-orm/migrations';

/** Clinicians, patients, care teams and the append-only audit log. */
export class Migration20261123000000_foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table clinician (
        id uuid primary key,
        sub text not null unique,
        email text not null,
        name text not null,
        role text not null check (role in ('PRESCRIBER', 'THERAPIST', 'ADMIN')),
        created_at timestamptz not null,
        updated_at timestamptz not null
      );
      create index clinician_email_idx on clinician (lower(email));

      create table patient (
        id uuid primary key,
        first_name text not null check (length(first_name) between 1 and 200),
        last_name text not null check (length(last_name) between 1 and 200),
        date_of_birth date not null,
        status text not null check (status in
          ('REFERRED', 'SCREENING', 'ELIGIBLE', 'INELIGIBLE', 'ACTIVE', 'MAINTENANCE', 'DISCHARGED')),
        created_by_id uuid not null references clinician (id),
        created_at timestamptz not null,
        updated_at timestamptz not null
      );

      create table care_team_member (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        clinician_id uuid not null references clinician (id),
        role text not null check (role in ('PRESCRIBER', 'THERAPIST')),
        added_at timestamptz not null,
        added_by_id uuid references clinician (id),
        unique (patient_id, clinician_id)
      );
      -- "my patients" is the hottest access path: every request checks membership by clinician.
      create index care_team_member_clinician_idx on care_team_member (clinician_id, patient_id);

      create table audit_event (
        id bigint generated always as identity primary key,
        at timestamptz not null default now(),
        clinician_id uuid not null references clinician (id),
        action text not null,
        patient_id uuid,
        entity text not null,
        entity_id text,
        request_id text not null
      );
      create index audit_event_patient_idx on audit_event (patient_id, id);

      -- HIPAA audit controls: the log is append-only in the database itself, whatever the code does.
      create function audit_event_is_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_event is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end;
      $$;
      create trigger audit_event_no_update_delete before update or delete on audit_event
        for each row execute function audit_event_is_append_only();
      create trigger audit_event_no_truncate before truncate on audit_event
        for each statement execute function audit_event_is_append_only();
    `);
  }
}
