import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';

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
 * travel in one message of PostgreSQL's simple query protocol, their parameters written into the
 * text as literals (as MikroORM's `execute` sends every statement): on this machine each message sent
 * to PostgreSQL costs more of the server's CPU than the statement it carries (BENCHMARKS.md, issue 19).
 * Each statement is still reported to the ORM's `onQuery` hook, `begin` and `commit` included. A
 * `work` that fails, or a statement that does, rolls the transaction back; a connection that cannot
 * even roll back is left for the pool to discard.
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
    const texts = statements.map(({ sql, params }) => inline(onQuery(sql, params as unknown[]), params));
    // Several statements in one message answer with a result each.
    const results = (await connection.query(texts.join(';\n'))) as unknown as
      pg.QueryResult<Row> | pg.QueryResult<Row>[];
    return (Array.isArray(results) ? results : [results]).map((result) => result.rows);
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
