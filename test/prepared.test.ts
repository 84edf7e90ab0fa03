import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../src/db/orm';
import { runStatement } from '../src/db/prepared';
import { createTestDatabase } from './support/server';

/**
 * Hot statements prepared by name (src/db/prepared.ts), on a pool of one connection so that every
 * statement runs where the last one prepared it.
 */
let orm: Orm;

beforeAll(async () => {
  orm = await openOrm(await createTestDatabase(), { poolSize: 1 });
  await orm.em
    .fork()
    .getConnection()
    .execute(
      "create table prepared_probe (id int primary key, label text); insert into prepared_probe values (1, 'one')",
    );
});
afterAll(() => orm.close());

const SELECT = 'select * from prepared_probe where id = ?';
const prepared = async () =>
  (
    await runStatement<{ name: string; statement: string }>(
      orm.em.fork(),
      'select name, statement from pg_prepared_statements',
      [],
    )
  )
    .filter((row) => row.statement.includes('prepared_probe'))
    .map((row) => row.name);

describe('a prepared statement', () => {
  it('is prepared once on the connection and answers with its values bound', async () => {
    expect(await runStatement(orm.em.fork(), SELECT, [1])).toEqual([{ id: 1, label: 'one' }]);
    expect(await runStatement(orm.em.fork(), SELECT, [2])).toEqual([]);
    expect(await prepared()).toHaveLength(1);
  });

  it('still answers after a migration adds a column under it, and is prepared afresh', async () => {
    const [before] = await prepared();
    await orm.em
      .fork()
      .getConnection()
      .execute("alter table prepared_probe add column extra text default 'x'");
    // PostgreSQL refuses the old prepared statement now ("cached plan must not change result type").
    expect(await runStatement(orm.em.fork(), SELECT, [1])).toEqual([{ id: 1, label: 'one', extra: 'x' }]);
    expect(await runStatement(orm.em.fork(), SELECT, [1])).toEqual([{ id: 1, label: 'one', extra: 'x' }]);
    const after = await prepared();
    expect(after).toContain(before);
    expect(after).toHaveLength(2);
  });

  it('fails in a transaction that the refusal aborted, and the next try succeeds', async () => {
    await orm.em
      .fork()
      .getConnection()
      .execute("alter table prepared_probe add column more text default 'y'");
    await expect(orm.em.fork().transactional((em) => runStatement(em, SELECT, [1]))).rejects.toThrow(
      /cached plan must not change result type/,
    );
    const row = { id: 1, label: 'one', extra: 'x', more: 'y' };
    expect(await orm.em.fork().transactional((em) => runStatement(em, SELECT, [1]))).toEqual([row]);
  });
});
