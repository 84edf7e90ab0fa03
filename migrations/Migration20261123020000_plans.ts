import { Migration } from '@mikro-orm/migrations';

/**
 * Treatment plans and their live document: an append-only log of accepted Yjs updates per plan,
 * compacted now and then into one snapshot (the updates it covers are then deleted).
 */
export class Migration20261123020000_plans extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table treatment_plan (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        status text not null check (status in ('DRAFT', 'ACTIVE', 'COMPLETED')),
        protocol text not null check (protocol in ('CONCURRENT', 'SEPARATE_DAY', 'SEQUENTIAL')),
        route text not null check (route in ('IV', 'IM', 'INTRANASAL_ESKETAMINE', 'SUBLINGUAL', 'ORAL')),
        planned_dosing_sessions smallint not null check (planned_dosing_sessions between 1 and 52),
        created_by_id uuid not null references clinician (id),
        created_at timestamptz not null,
        updated_at timestamptz not null
      );
      create index treatment_plan_patient_idx on treatment_plan (patient_id, created_at);

      create table plan_update (
        id bigint generated always as identity primary key,
        plan_id uuid not null references treatment_plan (id),
        update bytea not null,
        -- Who sent it; null for the server's own changes (restoring what a refused update deleted).
        clinician_id uuid references clinician (id),
        created_at timestamptz not null default now()
      );
      create index plan_update_plan_idx on plan_update (plan_id, id);

      create table plan_snapshot (
        plan_id uuid primary key references treatment_plan (id),
        state bytea not null,
        -- Every plan_update of the plan up to this id is in the snapshot.
        through_update_id bigint not null,
        created_at timestamptz not null default now()
      );
    `);
  }
}
