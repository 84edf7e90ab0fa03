import type { EntityManager } from '@mikro-orm/postgresql';
import type { Literal, Statement } from '../db/plainTransaction';
import { runStatement } from '../db/prepared';
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
 * Appends audit rows from arrays, `auditParameters`: who (clinician and request), what was done to
 * which record, and one pair of indexes a row. Stamped by the database's clock, the one clock all
 * instances share; stored in the order the rows were given.
 */
const INSERT_AUDIT_ROWS = `insert into audit_event (at, clinician_id, action, patient_id, entity, entity_id, request_id)
  select statement_timestamp(), w.clinician, k.action, p.id, k.entity, r.entity_id, w.request
  from unnest(?::int[], ?::int[]) with ordinality as a(record, who, n)
  join unnest(?::int[], ?::int[], ?::text[]) with ordinality as r(kind, patient, entity_id, n) on r.n = a.record
  join unnest(?::text[], ?::text[]) with ordinality as k(action, entity, n) on k.n = r.kind
  join unnest(?::uuid[], ?::text[]) with ordinality as w(clinician, request, n) on w.n = a.who
  left join unnest(?::uuid[]) with ordinality as p(id, n) on p.n = r.patient
  order by a.n`;

/** Queues one NOTIFY per event, in one statement. */
const NOTIFY = `select pg_notify(?, event) from unnest(?::text[]) as event`;

/** Numbers each distinct value from 1 (PostgreSQL's `with ordinality`), keeping the values in order. */
class Numbered<V> {
  readonly values: V[] = [];
  private readonly numbers = new Map<string, number>();

  numberOf(key: string, value: V): number {
    let n = this.numbers.get(key);
    if (n === undefined) {
      n = this.values.push(value);
      this.numbers.set(key, n);
    }
    return n;
  }
}

/**
 * The statement's parameters: each clinician and request, each kind of action, each patient and each
 * record once, and a row as two numbers (the record, who). A page of 50 patients read by one clinician
 * is ~250 rows sharing one clinician and request and five actions, and a thousand clinicians receiving
 * one alert are two records, so neither repeats what the rows share: PostgreSQL parses a third of the
 * bytes a row-per-object encoding took, and the kernel copies a third (BENCHMARKS.md, issue 15).
 * Rows come in runs of one request and one kind, so a row like the one before it takes their numbers
 * without building a key.
 */
function auditParameters(rows: AuditRow[]): Literal[] {
  const who = new Numbered<AuditRow>();
  const kinds = new Numbered<AuditRow>();
  const patients = new Numbered<string>();
  const records = new Numbered<{ kind: number; patient: number | null; entityId: string | null }>();
  const record: number[] = [];
  const by: number[] = [];
  let previous: AuditRow | undefined;
  let whoOfPrevious = 0;
  let kindOfPrevious = 0;
  for (const row of rows) {
    const kind =
      previous?.action === row.action && previous.entity === row.entity
        ? kindOfPrevious
        : kinds.numberOf(`${row.action}\n${row.entity}`, row);
    const patient = row.patientId === undefined ? null : patients.numberOf(row.patientId, row.patientId);
    const entityId = row.entityId ?? null;
    // Kind and patient are numbers, and a present id is marked: a missing id and an id spelt "null"
    // (or empty) stay apart.
    const recordKey = `${kind} ${patient ?? ''} ${entityId === null ? '' : `#${entityId}`}`;
    record.push(records.numberOf(recordKey, { kind, patient, entityId }));
    const whom =
      previous?.clinician === row.clinician && previous.requestId === row.requestId
        ? whoOfPrevious
        : who.numberOf(`${row.clinician}\n${row.requestId}`, row);
    by.push(whom);
    previous = row;
    whoOfPrevious = whom;
    kindOfPrevious = kind;
  }
  return [
    record,
    by,
    records.values.map((r) => r.kind),
    records.values.map((r) => r.patient),
    records.values.map((r) => r.entityId),
    kinds.values.map((k) => k.action),
    kinds.values.map((k) => k.entity),
    who.values.map((w) => w.clinician),
    who.values.map((w) => w.requestId),
    patients.values,
  ];
}

/**
 * Appends audit rows in one statement whatever their number: ten array parameters, which PostgreSQL
 * unpacks, instead of seven bound parameters a row.
 */
export async function appendAudit(db: Statements, rows: AuditRow[]): Promise<void> {
  for (const { sql, params } of auditStatements(rows)) await db.raw(sql, [...params]);
}

/** The same insert as a statement to send with others (none for no rows). */
export function auditStatements(rows: AuditRow[]): Statement[] {
  return rows.length > 0 ? [{ sql: INSERT_AUDIT_ROWS, params: auditParameters(rows) }] : [];
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
 * `onQuery` hook like every other statement, prepared (`runStatement`). With bound parameters: MikroORM's
 * `execute` would first inline them into the SQL text, which for a thousand audit rows costs more than
 * the insert.
 */
export function statementsOf(em: EntityManager): Statements {
  return { raw: (sql, bindings) => runStatement(em, sql, bindings) };
}
