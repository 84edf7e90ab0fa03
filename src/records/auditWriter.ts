import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../domain/audit';

export interface AuditRow {
  clinician: string;
  action: AuditAction;
  patientId?: string;
  entity: string;
  entityId?: string;
  requestId: string;
}

/** Appends the audit rows of reads; resolves once they are stored. */
export type AuditWriter = (rows: AuditRow[]) => Promise<void>;

/**
 * Appends audit rows from one parameter, `encodeAuditRows`' JSON. Stamped by the database's clock,
 * the one clock all instances share.
 */
export const INSERT_AUDIT_ROWS = `insert into audit_event (at, clinician_id, action, patient_id, entity, entity_id, request_id)
  select statement_timestamp(), u.clinician, g.action, g."patientId", g.entity, g."entityId", u.request
  from json_to_recordset(?::json) as g(action text, "patientId" uuid, entity text, "entityId" text, clinicians uuid[], "requestIds" text[])
  cross join lateral unnest(g.clinicians, g."requestIds") as u(clinician, request)`;

/**
 * Rows as the statement takes them: grouped by what was done to what, each group listing who did it
 * and under which request. A thousand clinicians receiving one alert are two groups (the alert and
 * its measure), not two thousand objects for PostgreSQL to parse (BENCHMARKS.md, "alerts — score-alert fan-out").
 */
export function encodeAuditRows(rows: AuditRow[]): string {
  const groups = new Map<string, { action: AuditAction; patientId?: string; entity: string; entityId?: string; clinicians: string[]; requestIds: string[] }>();
  for (const row of rows) {
    const key = `${row.action}\n${row.patientId ?? ''}\n${row.entity}\n${row.entityId ?? ''}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { action: row.action, patientId: row.patientId, entity: row.entity, entityId: row.entityId, clinicians: [], requestIds: [] }));
    group.clinicians.push(row.clinician);
    group.requestIds.push(row.requestId);
  }
  return JSON.stringify([...groups.values()]);
}

/**
 * Appends audit rows in one statement whatever their number: the rows travel as one JSON parameter,
 * which PostgreSQL unpacks, instead of seven bound parameters a row.
 */
export async function insertAuditRows(em: EntityManager, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  const params = [encodeAuditRows(rows)];
  // Through knex with a bound parameter: MikroORM's `execute` would first inline the parameter into
  // the SQL text, which for a thousand rows costs more than the insert. Still reported to the ORM's
  // `onQuery` hook like every other statement.
  const query = em.getConnection().getKnex().raw(em.config.get('onQuery')(INSERT_AUDIT_ROWS, params), params);
  const transaction = em.getTransactionContext();
  if (transaction) query.transacting(transaction);
  await query;
}

/**
 * Rows above which queued audits wait for the next insert. Recipients of one event are audited in
 * slices (src/graphql/sharedExecution.ts): the first slice's messages can leave once its own rows are
 * stored, not once every slice's are.
 */
const ROWS_PER_INSERT = 500;

/**
 * Inserts under way at once, each on its own connection: the next slice's rows are stored while
 * the previous slice's are, instead of after them.
 */
const CONCURRENT_INSERTS = 2;

/**
 * Group commit for read audits: rows that arrive while an insert is running go together in the next
 * one (up to `ROWS_PER_INSERT`). A thousand subscribers receiving one alert are audited in a few
 * INSERTs instead of a thousand, and each still gets its data only after its own rows are stored.
 */
export function createAuditWriter(fork: () => EntityManager): AuditWriter {
  const queue: { rows: AuditRow[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = 0;

  const drain = async () => {
    while (queue.length > 0) {
      let take = 1;
      for (let rows = queue[0].rows.length; take < queue.length && rows + queue[take].rows.length <= ROWS_PER_INSERT; take++) rows += queue[take].rows.length;
      const batch = queue.splice(0, take);
      try {
        await insertAuditRows(fork(), batch.flatMap((entry) => entry.rows));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    running--;
  };

  return (rows) => {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      queue.push({ rows, resolve, reject });
      // Started on the next turn of the event loop, so every subscriber of an event that is ready
      // now is in the queue.
      if (running < CONCURRENT_INSERTS) {
        running++;
        setImmediate(() => void drain());
      }
    });
  };
}
