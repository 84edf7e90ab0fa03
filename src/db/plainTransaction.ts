import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { planChanged, preparedName, retireName } from './prepared';

/** A statement with `?` placeholders, as MikroORM's query builder and `execute` write them. */
export interface Statement {
  sql: string;
  params: readonly Literal[];
}

/** What a statement here binds: written into its text as a literal (an array as PostgreSQL's array text). */
export type Literal = Scalar | readonly Scalar[];
type Scalar = string | number | boolean | Date | null | undefined;

/** A row as the driver returns it: column names, instants as ISO strings (MikroORM's type parsers). */
export type Row = Record<string, unknown>;

export interface PlainTransaction {
  /**
   * Runs the statements in order in one round trip, the first call beginning the transaction; the
   * rows of each. In READ COMMITTED each statement reads a snapshot taken when it starts, so one that
   * follows a row lock in the same call reads what the lock's previous holder committed.
   */
  run(...statements: Statement[]): Promise<Row[][]>;
  /** Runs the statements and commits, in the same round trip; the rows of each. */
  commit(...statements: Statement[]): Promise<Row[][]>;
}

/**
 * Runs `work` in a transaction of plain statements on one connection of the EntityManager's pool,
 * without the unit of work, for a write on the hot path (a measure). Statements given together
 * travel in one message of PostgreSQL's simple query protocol: on this machine each message sent
 * to PostgreSQL costs more of the server's CPU than the statement it carries (BENCHMARKS.md, issue 19).
 * A statement with parameters is sent as `execute` of a statement prepared on that connection
 * (`prepare`, once per connection, in a message of its own before the first use), its parameters
 * written as literals: PostgreSQL then neither parses nor plans it again on every write, which was
 * most of its time for the write's reads and audit rows. A text without a name (`preparedName`) is
 * sent with its literals written into it. Each statement is still reported to the ORM's `onQuery`
 * hook, `begin` and `commit` included. A `work` that fails, or a statement that does, rolls the
 * transaction back; a connection that cannot even roll back is left for the pool to discard.
 */
export async function inTransaction<T>(
  em: EntityManager,
  work: (tx: PlainTransaction) => Promise<T>,
): Promise<T> {
  const client = em.getConnection().getKnex().client as KnexClient;
  const onQuery = em.config.get('onQuery');
  const connection = await client.acquireConnection();
  let state = 'idle' as 'idle' | 'open' | 'committed';
  const send = async (statements: Statement[]): Promise<Row[][]> => {
    const texts: string[] = [];
    const named: { sql: string; name: string }[] = [];
    for (const { sql, params } of statements) {
      const reported = onQuery(sql, params as unknown[]);
      const name = params.length > 0 ? preparedName(reported) : undefined;
      if (name === undefined) {
        texts.push(inline(reported, params));
        continue;
      }
      await prepareOn(connection, name, reported);
      named.push({ sql: reported, name });
      texts.push(`execute ${executed(name)}(${params.map(literal).join(', ')})`);
    }
    try {
      // Several statements in one message answer with a result each.
      const results = (await connection.query(texts.join(';\n'))) as unknown as
        pg.QueryResult<Row> | pg.QueryResult<Row>[];
      return (Array.isArray(results) ? results : [results]).map((result) => result.rows);
    } catch (error) {
      // A migration changed the columns of one of them: it is prepared afresh, under a new name, the
      // next time. This transaction is aborted (the next try succeeds).
      if (planChanged(error)) for (const { sql, name } of named) retireName(sql, name);
      throw error;
    }
  };
  const begin: Statement = { sql: 'begin', params: [] };
  const tx: PlainTransaction = {
    run: async (...statements) => {
      if (state === 'committed') throw new Error('The transaction is already committed');
      const opening = state === 'idle';
      state = 'open';
      const rows = await send(opening ? [begin, ...statements] : statements);
      return opening ? rows.slice(1) : rows;
    },
    commit: async (...statements) => {
      const rows = await tx.run(...statements, { sql: 'commit', params: [] });
      state = 'committed';
      return rows.slice(0, -1);
    },
  };
  try {
    const value = await work(tx);
    if (state === 'open') await tx.commit();
    return value;
  } catch (error) {
    // Also after a failed commit message: PostgreSQL skips what follows a failed statement in it.
    if (state === 'open')
      await send([{ sql: 'rollback', params: [] }]).catch((failure: unknown) => {
        connection.__knex__disposed = failure;
      });
    throw error;
  } finally {
    void client.releaseConnection(connection);
  }
}

/** The parts of knex's client used here: its pool, whose connections are pg clients. */
interface KnexClient {
  acquireConnection(): Promise<PooledClient>;
  releaseConnection(connection: PooledClient): Promise<void>;
}

interface PooledClient extends pg.Client {
  /** Set on a connection that failed: knex's pool discards it instead of handing it out again. */
  __knex__disposed?: unknown;
}

/** The statements prepared with `prepare` on each connection, by name. */
const preparedOnConnection = new WeakMap<pg.Client, Set<string>>();

/**
 * The SQL-level name of a named text: apart from the protocol-level statements of the same names
 * (`runStatement`), which share the connection's namespace.
 */
const executed = (name: string) => `${name}_text`;

/** Prepares `sql` as `name` on the connection unless it is already; its `?` become `$1`, `$2`, … */
async function prepareOn(connection: pg.Client, name: string, sql: string): Promise<void> {
  let prepared = preparedOnConnection.get(connection);
  if (!prepared) preparedOnConnection.set(connection, (prepared = new Set()));
  if (prepared.has(name)) return;
  let n = 0;
  await connection.query(`prepare ${executed(name)} as ${sql.replace(/\?/g, () => `$${++n}`)}`);
  prepared.add(name);
}

/** `sql` with each `?` replaced by its parameter as a literal, quoted by the driver's own rules. */
function inline(sql: string, params: readonly Literal[]): string {
  let i = 0;
  const inlined = sql.replace(/\?/g, () => {
    if (i >= params.length) throw new Error(`More placeholders than parameters in: ${sql}`);
    return literal(params[i++]);
  });
  if (i !== params.length) throw new Error(`More parameters than placeholders in: ${sql}`);
  return inlined;
}

function literal(value: Literal): string {
  if (value === null || value === undefined) return 'null';
  if (isArray(value)) return pg.escapeLiteral(`{${value.map(element).join(',')}}`);
  return pg.escapeLiteral(text(value));
}

const isArray = (value: Literal): value is readonly Scalar[] => Array.isArray(value);

/** An array's element as PostgreSQL's array text spells it: NULL, or double-quoted with `\\` and `"` escaped. */
function element(value: Scalar): string {
  if (value === null || value === undefined) return 'NULL';
  return `"${text(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function text(value: Exclude<Scalar, null | undefined>): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`Not a finite number: ${value}`);
  return String(value);
}
