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
