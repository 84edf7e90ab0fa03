import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type { AuditAction } from '../domain/audit';
import { EVENT_CHANNEL, type CareEvent } from './events';

/**
 * What a write leaves behind besides its rows, written in the writer's own transaction by the one
 * module both the records and the live document use: the audit rows (who did what to which record)
 * and the NOTIFY that tells every instance (ids only). Committed with the write or not at all.
 */

export interface AuditRow {
  clinician: string;
  action: AuditAction;
  patientId?: string;
  entity: string;
  entityId?: string;
  requestId: string;
}

/** Where the statements run (the caller's transaction, if any): a knex transaction, or `statementsOf(em)`. */
export interface Statements {
  raw(sql: string, bindings: unknown[]): PromiseLike<unknown>;
}

/**
 * Appends audit rows from one parameter, `encodeAuditRows`' JSON. Stamped by the database's clock,
 * the one clock all instances share.
 */
const INSERT_AUDIT_ROWS = `insert into audit_event (at, clinician_id, action, patient_id, entity, entity_id, request_id)
  select statement_timestamp(), u.clinician, g.action, g."patientId", g.entity, g."entityId", u.request
  from json_to_recordset(?::json) as g(action text, "patientId" uuid, entity text, "entityId" text, clinicians uuid[], "requestIds" text[])
  cross join lateral unnest(g.clinicians, g."requestIds") as u(clinician, request)`;

/** Queues one NOTIFY per event, in one statement. */
const NOTIFY = `select pg_notify(?, event) from unnest(?::text[]) as event`;

/**
 * Rows as the statement takes them: grouped by what was done to what, each group listing who did it
 * and under which request. A thousand clinicians receiving one alert are two groups (the alert and
 * its measure), not two thousand objects for PostgreSQL to parse (BENCHMARKS.md, "alerts — score-alert
 * fan-out").
 */
function encodeAuditRows(rows: AuditRow[]): string {
  const groups = new Map<
    string,
    {
      action: AuditAction;
      patientId?: string;
      entity: string;
      entityId?: string;
      clinicians: string[];
      requestIds: string[];
    }
  >();
  for (const row of rows) {
    const key = `${row.action}\n${row.patientId ?? ''}\n${row.entity}\n${row.entityId ?? ''}`;
    let group = groups.get(key);
    if (!group)
      groups.set(
        key,
        (group = {
          action: row.action,
          patientId: row.patientId,
          entity: row.entity,
          entityId: row.entityId,
          clinicians: [],
          requestIds: [],
        }),
      );
    group.clinicians.push(row.clinician);
    group.requestIds.push(row.requestId);
  }
  return JSON.stringify([...groups.values()]);
}

/**
 * Appends audit rows in one statement whatever their number: the rows travel as one JSON parameter,
 * which PostgreSQL unpacks, instead of seven bound parameters a row.
 */
export async function appendAudit(db: Statements, rows: AuditRow[]): Promise<void> {
  if (rows.length > 0) await db.raw(INSERT_AUDIT_ROWS, [encodeAuditRows(rows)]);
}

/**
 * Queues NOTIFYs in the caller's transaction: PostgreSQL delivers them only if and when that
 * transaction commits, so a rolled-back write announces nothing.
 */
export async function announce(db: Statements, events: CareEvent[]): Promise<void> {
  if (events.length > 0) await db.raw(NOTIFY, [EVENT_CHANNEL, events.map((event) => JSON.stringify(event))]);
}

/**
 * The statements of an EntityManager: in its transaction when it has one, and reported to the ORM's
 * `onQuery` hook like every other statement. Through knex with bound parameters: MikroORM's `execute`
 * would first inline them into the SQL text, which for a thousand audit rows costs more than the insert.
 */
export function statementsOf(em: EntityManager): Statements {
  const knex = em.getConnection().getKnex();
  const onQuery = em.config.get('onQuery');
  const transaction = em.getTransactionContext<Knex.Transaction>();
  return {
    raw: (sql, bindings) => {
      const query = knex.raw(onQuery(sql, bindings), bindings as Knex.RawBinding[]);
      return transaction ? query.transacting(transaction) : query;
    },
  };
}
