import { Migration } from '@mikro-orm/migrations';

/** Outcome measures and the score alerts they raise. */
export class Migration20261123010000_measures extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table measure (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        instrument text not null check (instrument in ('PHQ9', 'GAD7', 'PCL5')),
        responses jsonb not null check (jsonb_typeof(responses) = 'array'),
        total_score smallint not null check (total_score between 0 and 80),
        severity text not null,
        administered_at timestamptz not null,
        recorded_by_id uuid not null references clinician (id),
        created_at timestamptz not null
      );
      -- Baseline, previous and "newest first" all walk this index.
      create index measure_history_idx on measure (patient_id, instrument, administered_at, id);

      create table score_alert (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        measure_id uuid not null references measure (id),
        instrument text not null,
        kind text not null check (kind in ('SUICIDAL_IDEATION', 'SEVERE_SYMPTOMS', 'WORSENING', 'RESPONSE', 'REMISSION')),
        level text not null check (level in ('CRITICAL', 'WARNING', 'INFO')),
        message text not null,
        created_at timestamptz not null,
        acknowledged_at timestamptz,
        acknowledged_by_id uuid references clinician (id),
        check ((acknowledged_at is null) = (acknowledged_by_id is null))
      );
      create index score_alert_patient_idx on score_alert (patient_id, id);
      create index score_alert_measure_idx on score_alert (measure_id);
      create index score_alert_created_idx on score_alert (created_at);
      -- CLINICAL.md: RESPONSE and REMISSION are raised once per patient and instrument.
      create unique index score_alert_once_idx on score_alert (patient_id, instrument, kind)
        where kind in ('RESPONSE', 'REMISSION');
    `);
  }
}
