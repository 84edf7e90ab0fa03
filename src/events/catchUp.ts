import type { Orm } from '../db/orm';
import type { CareEvent } from './events';

/** Events committed since `since`, read back from the tables after the LISTEN connection was lost. */
export async function committedSince(orm: Orm, since: Date): Promise<CareEvent[]> {
  const rows = await orm.em.getConnection().execute<{ type: CareEvent['type']; id: string; patient_id: string }[]>(
    `select 'measureRecorded' as type, id, patient_id from measure where created_at >= ?
     union all
     select 'scoreAlert' as type, id, patient_id from score_alert where created_at >= ?
     order by id`,
    [since, since],
  );
  return rows.map((r) => ({ type: r.type, id: r.id, patientId: r.patient_id }));
}
