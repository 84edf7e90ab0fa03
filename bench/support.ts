import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTokenService } from '../src/auth/tokens';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { createLogger } from '../src/logger';

export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256!';

/** One embedded PostgreSQL for a benchmark run, in a temporary directory. */
export async function benchDatabase() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kap-bench-pg-'));
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(path.join(dir, 'data'), createLogger('warn'));
  return {
    url: db.url,
    urlFor: db.urlFor,
    async stop() {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The built server (`dist/src/main.js`) as its own process, as in production. `BENCH_SERVER_ARGS`
 * passes Node flags to it, e.g. `--cpu-prof` to see where a benchmark's server time goes.
 */
export async function startServerProcess(
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const nodeArgs = process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      JWT_SECRET: BENCH_SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${code} before it was ready:\n${out}`)),
    );
  });
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    child,
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function signer() {
  const tokens = await createTokenService({ kind: 'secret', secret: BENCH_SECRET }, '/nonexistent');
  return (claims: { sub: string; email: string; name: string; role: string }) =>
    tokens.sign!(claims as never, 3600);
}

export async function graphql<T = any>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;

export function machine(): string {
  const cpus = os.cpus();
  return `${new Date().toISOString().slice(0, 10)}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

export class Deferred<T = void> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** CPU time used so far, in milliseconds. */
export interface CpuSample {
  /** This process: the benchmark's clients. */
  self: number;
  /** The server under test. */
  child: number;
  /** The PostgreSQL cluster this process started. */
  postgres: number;
}

/**
 * Reads the CPU time used by this process, by `child` and by the PostgreSQL cluster this process
 * started (its postmaster and the postmaster's children as they are now), from /proc. On two cores
 * that all of them share, what each side spends is latency for the others, so the benchmarks report
 * it next to the times. The processes are found once, so that a reading costs a few file reads.
 * Undefined where there is no /proc.
 */
export function cpuMeter(child: ChildProcess): (() => CpuSample) | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  const postmasters = [...parents]
    .filter(([pid, ppid]) => ppid === process.pid && readStat(pid)?.comm === 'postgres')
    .map(([pid]) => pid);
  const postgres = [...parents]
    .filter(([pid, ppid]) => postmasters.includes(pid) || postmasters.includes(ppid))
    .map(([pid]) => pid);
  return () => {
    const usage = process.cpuUsage();
    return {
      self: (usage.user + usage.system) / 1000,
      child: child.pid ? (readStat(child.pid)?.ms ?? 0) : 0,
      postgres: postgres.reduce((sum, pid) => sum + (readStat(pid)?.ms ?? 0), 0),
    };
  };
}

function readStat(pid: number): { comm: string; ppid: number; ms: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // "pid (comm) state ppid … utime stime …": comm may hold spaces, so split after its ")".
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return {
    comm: text.slice(text.indexOf('(') + 1, close),
    ppid: Number(fields[1]),
    ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS,
  };
}

/** Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;

export async function inBatches<T>(
  items: T[],
  size: number,
  work: (item: T, index: number) => Promise<unknown>,
) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => work(item, i + j)));
  }
}

export const sleep = (msec: number) => new Promise((resolve) => setTimeout(resolve, msec));

export function withTimeout<T>(promise: Promise<T>, msec: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${msec} ms`)), msec)),
    ),
  ]);
}
