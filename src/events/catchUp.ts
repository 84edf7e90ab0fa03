import type { Orm } from '../db/orm';
import type { CareEvent } from './events';

/**
 * Events committed since `since`, read back from the tables after the LISTEN connection was lost.
 * Plan updates come back one by one (open documents apply them; applying twice is harmless); which
 * sections they changed is not recorded, so `planSectionChanged` is not replayed.
 */
export async function committedSince(orm: Orm, since: Date): Promise<CareEvent[]> {
  const rows = await orm.em.getConnection().execute<
    {
      type: 'measureRecorded' | 'scoreAlert' | 'planUpdated';
      id: string;
      patient_id: string;
      plan_id: string | null;
    }[]
  >(
    `select 'measureRecorded' as type, id::text, patient_id, null::uuid as plan_id from measure where created_at >= ?
     union all
     select 'scoreAlert' as type, id::text, patient_id, null from score_alert where created_at >= ?
     union all
     select 'planUpdated' as type, u.id::text, p.patient_id, u.plan_id from plan_update u join treatment_plan p on p.id = u.plan_id where u.created_at >= ?
     order by type, id`,
    [since, since, since],
  );
  return rows.map((r): CareEvent =>
    r.type === 'planUpdated'
      ? { type: 'planUpdated', id: r.id, patientId: r.patient_id, planId: r.plan_id!, updateIds: [r.id] }
      : { type: r.type, id: r.id, patientId: r.patient_id },
  );
}
