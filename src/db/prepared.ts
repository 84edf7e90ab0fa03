import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Distinct statement texts given a name at most. A name is a prepared statement on every pooled
 * connection that runs it, held by PostgreSQL until the connection closes, so only so many.
 */
const MAX_NAMED_STATEMENTS = 200;

const names = new Map<string, string>();
let namesGiven = 0;

/**
 * The name under which a statement sent often with the same text (its values bound, never written
 * into it) is prepared: PostgreSQL then parses it once per connection and, once it has seen that a
 * generic plan does as well, plans it once too, instead of both for every request. Parsing and
 * planning were a third of PostgreSQL's time for a dashboard page and its audit INSERT (BENCHMARKS.md,
 * issue 15). Undefined once `MAX_NAMED_STATEMENTS` texts have names: such a statement runs unnamed,
 * as before. Set as knex's `options({ name })`, which the pg driver takes.
 */
export function preparedName(sql: string): string | undefined {
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
    name = `kap_${++namesGiven}`;
    names.set(sql, name);
  }
  return name;
}

/**
 * Runs a statement by `preparedName`. When the tables under it changed since a connection prepared
 * it (a newer instance's migration added a column that its `select *` now returns), PostgreSQL refuses
 * the prepared statement on that connection ever after: the text then gets a new name, prepared
 * afresh wherever it runs next, and the statement runs again unnamed, unless it was in a transaction,
 * which the refusal has aborted (then it fails, and the next try succeeds).
 */
export async function runPrepared<T>(
  sql: string,
  inTransaction: boolean,
  run: (name: string | undefined) => Promise<T>,
): Promise<T> {
  const name = preparedName(sql);
  try {
    return await run(name);
  } catch (error) {
    if (name === undefined || !planChanged(error)) throw error;
    retireName(sql, name);
    if (inTransaction) throw error;
    return run(undefined);
  }
}

/** Gives `sql` a new name the next time it is prepared: PostgreSQL refuses its old one (`planChanged`). */
export function retireName(sql: string, name: string): void {
  if (names.get(sql) === name) names.delete(sql);
}

/** PostgreSQL's refusal of a prepared statement whose result columns changed under it. */
export function planChanged(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change');
}

/**
 * One statement with bound parameters (`?` placeholders), prepared by name, on the EntityManager's
 * pool (in its transaction, if it has one) and reported to the ORM's `onQuery` hook like every other
 * statement: for what runs on every request or event (a page's reads, audit rows, a live alert), where
 * MikroORM's `execute` would write the values into a new text each time.
 */
export async function runStatement<R = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<R[]> {
  const knex = em.getConnection().getKnex();
  const onQuery = em.config.get('onQuery');
  const transaction = em.getTransactionContext<Knex.Transaction>();
  return runPrepared(sql, transaction !== undefined, async (name) => {
    const query = knex.raw(onQuery(sql, [...params]), params as never[]);
    if (name) query.options({ name });
    if (transaction) query.transacting(transaction);
    const { rows } = (await query) as { rows: R[] };
    return rows;
  });
}
