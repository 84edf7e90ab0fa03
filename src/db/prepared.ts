import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Distinct statement texts given a name at most. A name is a prepared statement on every pooled
 * connection that runs it, held by PostgreSQL until the connection closes, so only so many.
 */
const MAX_NAMED_STATEMENTS = 200;

const names = new Map<string, string>();

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
    name = `kap_${names.size + 1}`;
    names.set(sql, name);
  }
  return name;
}

/**
 * One read with bound parameters (`?` placeholders), prepared by name, on the EntityManager's pool
 * (in its transaction, if it has one) and reported to the ORM's `onQuery` hook like every other statement: for a small read on a hot path
 * (a live alert), where MikroORM's `execute` would write the values into a new text each time.
 */
export async function readPrepared(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<Record<string, unknown>[]> {
  const query = em
    .getConnection()
    .getKnex()
    .raw(em.config.get('onQuery')(sql, [...params]), params as never[]);
  const name = preparedName(sql);
  if (name) query.options({ name });
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction) query.transacting(transaction);
  const { rows } = (await query) as { rows: Record<string, unknown>[] };
  return rows;
}
