import type { EntityManager } from '@mikro-orm/postgresql';
import { runStatement } from '../db/prepared';

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
  /** Set when this read is a page whose ids other reads take (`readPage`). */
  page?: Statement;
  resolve(rows: Record<string, unknown>[]): void;
  reject(error: unknown): void;
}

/**
 * Stands, as a read's parameter, for the ids of the rows another read of the same statement returns
 * (`Together.readPage`): a page of patients and their list fields read in one round trip, before the
 * page's ids are known here. The page's query runs once in the statement, as a common table expression
 * that the page's own read and every read of its ids select from.
 */
export class PageIds {
  constructor(
    readonly page: Statement,
    /** The ids the page returned, once it has. */
    readonly returned: Promise<ReadonlySet<string>>,
  ) {}
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
    return this.enqueue(statement, undefined);
  }

  /**
   * A read whose rows' ids later reads of the same turn may take as a parameter (`PageIds`), so their
   * rows come back in the same statement.
   */
  readPage(statement: Statement): { rows: Promise<Record<string, unknown>[]>; ids: PageIds } {
    const rows = this.enqueue(statement, statement);
    const returned = rows.then((page) => new Set(page.map((row) => row.id as string)));
    // A failed page fails whoever reads `rows`; nobody need wait on `returned` for it.
    returned.catch(() => undefined);
    return { rows, ids: new PageIds(statement, returned) };
  }

  private enqueue(statement: Statement, page: Statement | undefined): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) => {
      // The loaders' batches start in process.nextTick callbacks of the same turn; setImmediate runs
      // after all of them.
      if (this.pending.length === 0) setImmediate(() => void this.send());
      this.pending.push({ ...statement, page, resolve, reject });
    });
  }

  private async send(): Promise<void> {
    const reads = this.pending;
    this.pending = [];
    try {
      const pages = new Pages();
      const statements = reads.map((read) =>
        read.page
          ? { sql: `select * from ${pages.nameOf(read.page)}`, params: [] }
          : withPageIds(read, pages),
      );
      const columns = statements.map(
        (read, i) => `(select coalesce(json_agg(r), '[]'::json) from (${read.sql}) r) as r${i}`,
      );
      // Written before the columns, so their parameters come first.
      const sql = `${pages.with()}select ${columns.join(', ')}`;
      const params = [...pages.params, ...statements.flatMap((read) => [...read.params])];
      // With bound parameters, as the audit rows are (MikroORM's `execute` would inline a page's ids
      // into the SQL text first); prepared, and still reported to the ORM's `onQuery` hook.
      const rows = await runStatement<Record<string, Record<string, unknown>[]>>(this.em, sql, params);
      reads.forEach((read, i) => read.resolve(rows[0][`r${i}`]));
    } catch (error) {
      for (const read of reads) read.reject(error);
    }
  }
}

/**
 * The pages of one statement, each a materialized common table expression: PostgreSQL plans and runs
 * a page's query once however many reads take its ids, in the order its own `order by` gives.
 */
class Pages {
  private readonly names = new Map<Statement, string>();
  private readonly definitions: string[] = [];
  readonly params: unknown[] = [];

  nameOf(page: Statement): string {
    let name = this.names.get(page);
    if (name === undefined) {
      name = `page${this.names.size}`;
      this.names.set(page, name);
      this.definitions.push(`${name} as materialized (${page.sql})`);
      this.params.push(...page.params);
    }
    return name;
  }

  /** The `with` clause, or nothing when no read was of a page. */
  with(): string {
    return this.definitions.length === 0 ? '' : `with ${this.definitions.join(', ')} `;
  }
}

/** The read with each `PageIds` parameter written out as the ids of its page. */
function withPageIds(read: Statement, pages: Pages): Statement {
  if (!read.params.some((param) => param instanceof PageIds)) return read;
  const pieces = read.sql.split('?');
  // Placeholders are knex's `?`, one a parameter; the statements here use no `?` operator.
  if (pieces.length !== read.params.length + 1) throw new Error('a read with page ids has a stray ?');
  let sql = pieces[0];
  const params: unknown[] = [];
  read.params.forEach((param, i) => {
    if (param instanceof PageIds) {
      sql += `(select coalesce(array_agg(page.id), '{}') from ${pages.nameOf(param.page)} page)`;
    } else {
      sql += '?';
      params.push(param);
    }
    sql += pieces[i + 1];
  });
  return { sql, params };
}
