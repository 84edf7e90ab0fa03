import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { afterAll, describe, expect, it } from 'vitest';
import { CreatePatientDocument, PatientsDocument } from './generated/graphql';
import { childEnv } from './support/childEnv';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  readonly output: string;
  graphqlUrl: string;
  tokens: Record<string, string>;
}

/** Runs the built server as `npm start` does, and waits for its ready banner. */
function start(env: Record<string, string>, options: { detached?: boolean } = {}): Promise<Started> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: childEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached,
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /GraphQL:\s+(\S+)/.exec(output)?.[1];
      if (url && /therapist token[^\n]*\n\s+Authorization: Bearer (\S+)/.test(output)) {
        const tokens = Object.fromEntries(
          [...output.matchAll(/(prescriber|therapist) token[^\n]*\n\s+Authorization: Bearer (\S+)/g)].map(
            (m) => [m[1], m[2]],
          ),
        );
        // `output` goes on growing: tests read what the server said while stopping.
        resolve({
          child,
          get output() {
            return output;
          },
          graphqlUrl: url,
          tokens,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${code} before it was ready:\n${output}`)),
    );
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: root, env: childEnv(env) });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  return exitCode(child).then((code) => ({ code, output }));
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start', () => {
  it('serves on an embedded database, seeds demo data once, keeps data across restarts and stops cleanly', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kap-start-'));
    try {
      const first = await start({ DATA_DIR: dataDir });
      expect(first.output).toContain('Seeded demo clinicians and patients.');
      expect(first.output).toMatch(
        /Collab:\s+ws:\/\/127\.0\.0\.1:\d+\/collab\/<planId>\?ticket=<collabTicket\(planId\) ticket>  \(or \?token=<jwt>\)/,
      );
      // The banner opens with the care board, which signs in as the demo clinicians.
      const board =
        /^Care board: (http:\/\/127\.0\.0\.1:\d+)\/ {2}\(sign in as a demo clinician\)\nKAP Care Graph ready/m.exec(
          first.output,
        )?.[1];
      expect(board, first.output).toBe(first.graphqlUrl.replace(/\/graphql$/, ''));
      expect(await (await fetch(`${board}/`)).text()).toContain('<div id="app">');
      expect((await fetch(`${board}/dev/demo-tokens`)).status).toBe(200);
      const prescriber = new GraphQLClient(first.graphqlUrl, {
        headers: { authorization: `Bearer ${first.tokens.prescriber}` },
      });
      const therapist = new GraphQLClient(first.graphqlUrl, {
        headers: { authorization: `Bearer ${first.tokens.therapist}` },
      });
      expect((await prescriber.request(PatientsDocument, {})).patients.edges).toHaveLength(3);
      expect((await therapist.request(PatientsDocument, {})).patients.edges).toHaveLength(3);
      await prescriber.request(CreatePatientDocument, {
        input: { firstName: 'Kept', lastName: 'Across', dateOfBirth: '1970-01-01' },
      });

      const exited = exitCode(first.child);
      first.child.kill('SIGTERM');
      expect(await exited).toBe(0);

      const second = await start({ DATA_DIR: dataDir });
      expect(second.output).not.toContain('Seeded');
      const again = new GraphQLClient(second.graphqlUrl, {
        headers: { authorization: `Bearer ${second.tokens.prescriber}` },
      });
      const { patients } = await again.request(PatientsDocument, {});
      expect(patients.edges.map((e) => e.node.firstName)).toContain('Kept');
      expect(patients.edges).toHaveLength(4);
      // A token printed by the first run still works: the development secret is kept under DATA_DIR.
      const old = new GraphQLClient(second.graphqlUrl, {
        headers: { authorization: `Bearer ${first.tokens.therapist}` },
      });
      expect((await old.request(PatientsDocument, {})).patients.edges).toHaveLength(4 - 1);

      const stopped = exitCode(second.child);
      second.child.kill('SIGINT');
      expect(await stopped).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each<[Record<string, string>, RegExp]>([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be a whole number/],
    [
      { NODE_ENV: 'production' },
      /^Invalid configuration: JWT_SECRET or JWT_JWKS_URL is required when NODE_ENV=production/,
    ],
  ])('fails at start on bad configuration %j with one clear line', async (env, line) => {
    const { code, output } = await run(env);
    expect(code).toBe(1);
    expect(output.trim()).toMatch(line);
    expect(output.trim().split('\n')).toHaveLength(1);
  });
});

describe('one server per data directory', () => {
  it('refuses a second start on a data directory in use, and the first keeps serving; a database left by a killed server is taken over', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kap-twice-'));
    try {
      const first = await start({ DATA_DIR: dataDir });
      const client = new GraphQLClient(first.graphqlUrl, {
        headers: { authorization: `Bearer ${first.tokens.prescriber}` },
      });

      const second = await run({ DATA_DIR: dataDir, PORT: '0' });
      expect(second.code).toBe(1);
      const lines = second.output.trim().split('\n');
      expect(lines, second.output).toHaveLength(1);
      expect(lines[0]).toContain(`in use by process ${first.child.pid}`);
      expect(lines[0]).toContain(path.join(dataDir, 'postgres'));
      expect((await client.request(PatientsDocument, {})).patients.edges).toHaveLength(3);

      // Killed without a chance to stop its database: the next start stops that PostgreSQL and serves.
      const killed = exitCode(first.child);
      first.child.kill('SIGKILL');
      await killed;
      const third = await start({ DATA_DIR: dataDir });
      const again = new GraphQLClient(third.graphqlUrl, {
        headers: { authorization: `Bearer ${third.tokens.prescriber}` },
      });
      expect((await again.request(PatientsDocument, {})).patients.edges).toHaveLength(3);
      const stopped = exitCode(third.child);
      third.child.kill('SIGTERM');
      expect(await stopped).toBe(0);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('leaves no PostgreSQL running when the start fails after the database started (port taken)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kap-taken-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const { code, output } = await run({ DATA_DIR: dataDir, PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toMatch(/Startup failed: .*EADDRINUSE/);
      expect(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')), 'the database had started').toBe(true);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(existsSync(path.join(dataDir, 'postgres.lock'))).toBe(false);
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('Ctrl-C', () => {
  it('lets a request in flight finish on a live database, then exits 0 (SIGINT to the whole process group, as a terminal sends it)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kap-ctrlc-'));
    try {
      // Its own process group, as a shell gives a foreground job: the group's signal reaches every
      // process in it, the embedded PostgreSQL too unless it runs in a group of its own.
      const server = await start({ DATA_DIR: dataDir }, { detached: true });
      const body = JSON.stringify({ query: '{ me { name } patients { edges { node { firstName } } } }' });
      const url = new URL(server.graphqlUrl);
      const request = httpRequest(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${server.tokens.prescriber}`,
          expect: '100-continue',
        },
      });
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        request.once('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        request.once('error', reject);
      });
      // "100 Continue": the server holds the request; the body is sent after the signal.
      await new Promise<void>((resolve) => request.once('continue', resolve));
      const exited = exitCode(server.child);
      process.kill(-server.child.pid!, 'SIGINT');
      await new Promise((resolve) => server.child.stdout!.once('data', resolve)); // "shutting down"
      request.end(body);

      const { status, text } = await response;
      expect(status, text).toBe(200);
      expect(JSON.parse(text).data.patients.edges).toHaveLength(3);
      expect(await exited).toBe(0);
      expect(server.output).not.toMatch(/audit write failed|reconnect|terminating connection/i);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the embedded PostgreSQL', () => {
  it('leaves a process the exit code it ends with (the library would exit 0 on beforeExit)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kap-exit-'));
    try {
      // A process that starts and stops a cluster, then ends by itself with exit code 3, as a test
      // run with failures ends with 1.
      const script = `
        const { startEmbeddedPostgres } = require('./dist/src/db/embedded');
        const { createLogger } = require('./dist/src/logger');
        startEmbeddedPostgres(${JSON.stringify(path.join(dir, 'data'))}, createLogger('warn'))
          .then((db) => db.stop())
          .then(() => { process.exitCode = 3; });`;
      const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: 'inherit' });
      expect(await exitCode(child)).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
