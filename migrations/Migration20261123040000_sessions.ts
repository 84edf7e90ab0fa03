import { Migration } from '@mikro-orm/migrations';

/** Sessions of a treatment plan (a completed dosing session is a dose's administration record), and therapists' own notes. */
export class Migration20261123040000_sessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table treatment_session (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        plan_id uuid not null references treatment_plan (id),
        kind text not null check (kind in ('PREPARATION', 'DOSING', 'INTEGRATION', 'FOLLOW_UP')),
        scheduled_at timestamptz not null,
        dosing_session_id uuid references treatment_session (id),
        scheduled_by_id uuid not null references clinician (id),
        completed_at timestamptz,
        completed_by_id uuid references clinician (id),
        prescription_id uuid references prescription (id),
        route text,
        dose_mg numeric(7,2) check (dose_mg > 0),
        lot_number text,
        systolic_before smallint,
        diastolic_before smallint,
        systolic_after smallint,
        diastolic_after smallint,
        minutes_monitored smallint check (minutes_monitored >= 0),
        adverse_events text[],
        blood_pressure_override_reason text,
        created_at timestamptz not null,
        check ((dosing_session_id is null) or kind = 'INTEGRATION'),
        -- A completed dosing session records the whole administration.
        check (kind <> 'DOSING' or completed_at is null or (prescription_id is not null and dose_mg is not null and lot_number is not null
          and systolic_before is not null and diastolic_before is not null and minutes_monitored is not null)),
        check (route <> 'INTRANASAL_ESKETAMINE' or completed_at is null or minutes_monitored >= 120)
      );
      create index treatment_session_patient_idx on treatment_session (patient_id, scheduled_at);

      -- An administered dose is a Schedule III record: once completed, a dosing session is kept as it is.
      create function dosing_record_is_kept() returns trigger language plpgsql as $$
      begin
        if old.kind = 'DOSING' and old.completed_at is not null then
          raise exception 'an administered dose is never deleted or edited: % refused', tg_op using errcode = 'insufficient_privilege';
        end if;
        if tg_op = 'DELETE' then return old; end if;
        return new;
      end $$;
      create trigger dosing_record_kept before update or delete on treatment_session
        for each row execute function dosing_record_is_kept();

      create table psychotherapy_note (
        id uuid primary key,
        session_id uuid not null references treatment_session (id),
        author_id uuid not null references clinician (id),
        text text not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (session_id, author_id)
      );
    `);
  }
}
