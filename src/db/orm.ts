import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../migrations';
import { entities } from '../entities';

export type Orm = MikroORM;

export interface OrmOptions {
  /** Sees every SQL statement the ORM sends, with its parameters; tests count and replay statements with it. */
  onQuery?: (sql: string, params: readonly unknown[]) => void;
  poolSize?: number;
}

export function ormConfig(databaseUrl: string, options: OrmOptions = {}) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    // Relations load through MikroORM's dataloader, so a page of N patients costs one query per
    // relation, not N.
    dataloader: true,
    // Every request works in its own fork; touching the global EntityManager is a bug.
    allowGlobalContext: false,
    pool: { min: 0, max: options.poolSize ?? 10 },
    debug: false,
    onQuery: (sql: string, params: readonly unknown[]) => {
      options.onQuery?.(sql, params);
      return sql;
    },
  });
}

export async function openOrm(databaseUrl: string, options: OrmOptions = {}): Promise<Orm> {
  const orm = await MikroORM.init(ormConfig(databaseUrl, options));
  await orm.getMigrator().up();
  return orm;
}

/**
 * Another ORM on the same database, with a pool of `poolSize` connections of its own, for work that
 * must not wait behind the first one's (alert delivery behind ordinary writes).
 */
export function openSeparatePool(orm: Orm, poolSize: number): Promise<Orm> {
  return MikroORM.init({ ...orm.config.getAll(), pool: { min: 0, max: poolSize } });
}
