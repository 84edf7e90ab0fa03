import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit, statementsOf, type AuditRow } from '../events/journal';

/** Appends the audit rows of reads; resolves once they are stored. */
export type AuditWriter = (rows: AuditRow[]) => Promise<void>;

/** Appends audit rows in the EntityManager's transaction, if it has one (`appendAudit`). */
export function insertAuditRows(em: EntityManager, rows: AuditRow[]): Promise<void> {
  return appendAudit(statementsOf(em), rows);
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
      for (
        let rows = queue[0].rows.length;
        take < queue.length && rows + queue[take].rows.length <= ROWS_PER_INSERT;
        take++
      )
        rows += queue[take].rows.length;
      const batch = queue.splice(0, take);
      try {
        await insertAuditRows(
          fork(),
          batch.flatMap((entry) => entry.rows),
        );
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
