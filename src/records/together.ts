import type { EntityManager } from '@mikro-orm/postgresql';

/** A statement with `?` placeholders, as MikroORM's query builder and `execute` write them. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/** What a MikroORM query builder builds, as knex writes it (`?` placeholders, before numbering). */
export interface Buildable {
  getKnexQuery(): { toSQL(): { sql: string; bindings: readonly unknown[] } };
}

export function statementOf(qb: Buildable): Statement {
  const { sql, bindings } = qb.getKnexQuery().toSQL();
  return { sql, params: bindings };
}

interface Pending extends Statement {
  resolve(rows: Record<string, unknown>[]): void;
  reject(error: unknown): void;
}

/**
 * Reads that one request starts in the same turn of the event loop, sent to PostgreSQL as one
 * statement. GraphQL resolves every field of a page's patients in one pass; their batched loaders
 * (PerPatient) each start one read in the same turn, so the page's list fields (measures, latest
 * measures, care team, alerts, plans, courses, sessions…) cost one round trip together, whatever
 * the page asks for. Each read is one column of the answer: its rows as a JSON array, in the order
 * its own `order by` gives (an ordered subquery is aggregated in that order), keyed by column name
 * as `EntityManager.map` takes them.
 */
export class Together {
  private pending: Pending[] = [];

  constructor(private readonly em: EntityManager) {}

  read(statement: Statement): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) => {
      // The loaders' batches start in process.nextTick callbacks of the same turn; setImmediate runs
      // after all of them.
      if (this.pending.length === 0) setImmediate(() => void this.send());
      this.pending.push({ ...statement, resolve, reject });
    });
  }

  private async send(): Promise<void> {
    const reads = this.pending;
    this.pending = [];
    const columns = reads.map(
      (read, i) => `(select coalesce(json_agg(r), '[]'::json) from (${read.sql}) r) as r${i}`,
    );
    const sql = `select ${columns.join(', ')}`;
    const params = reads.flatMap((read) => [...read.params]);
    try {
      // Through knex with bound parameters, as the audit rows are (MikroORM's `execute` would inline a
      // page's ids into the SQL text first); still reported to the ORM's `onQuery` hook.
      const query = this.em
        .getConnection()
        .getKnex()
        .raw(this.em.config.get('onQuery')(sql, params), params as never[]);
      const transaction = this.em.getTransactionContext();
      if (transaction) query.transacting(transaction);
      const { rows } = (await query) as { rows: Record<string, Record<string, unknown>[]>[] };
      reads.forEach((read, i) => read.resolve(rows[0][`r${i}`]));
    } catch (error) {
      for (const read of reads) read.reject(error);
    }
  }
}
