import { spawn, type ChildProcess } from 'node:child_process';
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
export async function startServerProcess(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const nodeArgs = process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, '..', 'src', 'main.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', JWT_SECRET: BENCH_SECRET, SEED_DEMO: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready:\n${out}`)));
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
  return (claims: { sub: string; email: string; name: string; role: string }) => tokens.sign!(claims as never, 3600);
}

export async function graphql<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
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
