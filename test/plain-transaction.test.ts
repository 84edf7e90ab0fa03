import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../src/db/orm';
import { inTransaction } from '../src/db/plainTransaction';
import { createTestDatabase } from './support/server';

/**
 * The hot write's transaction of plain statements (src/db/plainTransaction.ts), on a pool of one
 * connection: a connection left inside a transaction, or aborted, would fail the next use.
 */
let orm: Orm;
const statements: string[] = [];

beforeAll(async () => {
  orm = await openOrm(await createTestDatabase(), { poolSize: 1, onQuery: (sql) => statements.push(sql) });
  await orm.em.fork().getConnection().execute('create table plain_probe (id int primary key, label text)');
});
afterAll(() => orm.close());

const labels = async () =>
  (
    await orm.em
      .fork()
      .getConnection()
      .execute<{ label: string }[]>('select label from plain_probe order by id')
  ).map((r) => r.label);

describe('a transaction of plain statements', () => {
  it('sends statements given together in one call, reports each, and commits with the last', async () => {
    statements.length = 0;
    const rows = await inTransaction(orm.em.fork(), async (tx) => {
      const [[first], [second]] = await tx.run(
        { sql: 'insert into plain_probe values (?, ?) returning id', params: [1, 'one'] },
        { sql: 'select count(*)::int as n from plain_probe', params: [] },
      );
      expect(first).toEqual({ id: 1 });
      // A later statement of the same call sees what an earlier one did.
      expect(second).toEqual({ n: 1 });
      return tx.commit({ sql: 'insert into plain_probe values (?, ?) returning label', params: [2, 'two'] });
    });
    expect(rows).toEqual([[{ label: 'two' }]]);
    expect(statements[0]).toBe('begin');
    expect(statements.at(-1)).toBe('commit');
    expect(statements).toHaveLength(5);
    expect(await labels()).toEqual(['one', 'two']);
  });

  it('rolls back when a statement of the commit fails, or the work throws, and the connection serves on', async () => {
    await expect(
      inTransaction(orm.em.fork(), async (tx) => {
        await tx.run({ sql: 'insert into plain_probe values (?, ?)', params: [3, 'three'] });
        // The duplicate key fails; PostgreSQL skips the commit after it.
        return tx.commit(
          { sql: 'insert into plain_probe values (?, ?)', params: [4, 'four'] },
          { sql: 'insert into plain_probe values (?, ?)', params: [1, 'again'] },
        );
      }),
    ).rejects.toThrow(/duplicate key/);
    await expect(
      inTransaction(orm.em.fork(), async (tx) => {
        await tx.run({ sql: 'insert into plain_probe values (?, ?)', params: [5, 'five'] });
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await labels()).toEqual(['one', 'two']);
  });

  it('passes every text and array parameter through as it is, quotes, backslashes and nulls included (property)', async () => {
    const text = fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', ''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { minLength: 1, maxLength: 4 }),
        fc.array(fc.option(text, { nil: null }), { maxLength: 6 }),
        async (texts, array) => {
          const rows = await inTransaction(orm.em.fork(), (tx) =>
            tx.commit(
              ...texts.map((t) => ({ sql: 'select ?::text as text, ? as at', params: [t, new Date(0)] })),
              { sql: 'select ?::text[] as array', params: [array] },
            ),
          );
          expect(rows.slice(0, -1).map(([row]) => row.text)).toEqual(texts);
          expect(rows.slice(0, -1).map(([row]) => new Date(row.at as string).getTime())).toEqual(
            texts.map(() => 0),
          );
          expect(rows.at(-1)![0].array).toEqual(array);
        },
      ),
      { numRuns: 200 },
    );
    expect(await labels()).toEqual(['one', 'two']);
  });

  it('prepares each statement with parameters once on the connection, and runs it by name after', async () => {
    const INSERT = 'insert into plain_probe values (?, ?) returning label';
    const preparedNow = async () =>
      (
        await orm.em
          .fork()
          .getConnection()
          .execute<{ name: string; statement: string }[]>(
            'select name, statement from pg_prepared_statements',
          )
      ).filter((row) => row.statement.includes('plain_probe values ($1, $2) returning label'));
    for (const [id, label] of [
      [6, 'six'],
      [7, 'seven'],
    ] as const)
      await inTransaction(orm.em.fork(), (tx) => tx.commit({ sql: INSERT, params: [id, label] }));
    const [prepared, ...twins] = await preparedNow();
    expect(twins).toEqual([]);
    expect(prepared.statement).toMatch(/^prepare kap_\d+_text as /);
    expect(await labels()).toEqual(['one', 'two', 'six', 'seven']);
  });

  it('fails once in the transaction that a migration under a prepared statement aborted, and the next try succeeds', async () => {
    const SELECT = 'select * from plain_probe where id = ?';
    const read = () => inTransaction(orm.em.fork(), (tx) => tx.commit({ sql: SELECT, params: [1] }));
    expect(await read()).toEqual([[{ id: 1, label: 'one' }]]);
    await orm.em.fork().getConnection().execute("alter table plain_probe add column extra text default 'x'");
    await expect(read()).rejects.toThrow(/cached plan must not change result type/);
    expect(await read()).toEqual([[{ id: 1, label: 'one', extra: 'x' }]]);
    expect(await read()).toEqual([[{ id: 1, label: 'one', extra: 'x' }]]);
  });
});
