import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { afterAll, describe, expect, it } from 'vitest';
import { CreatePatientDocument, PatientsDocument } from './generated/graphql';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  output: string;
  graphqlUrl: string;
  tokens: Record<string, string>;
}

/** Runs the built server as `npm start` does, and waits for its ready banner. */
function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /GraphQL:\s+(\S+)/.exec(output)?.[1];
      if (url && /therapist token[^\n]*\n\s+Authorization: Bearer (\S+)/.test(output)) {
        const tokens = Object.fromEntries(
          [...output.matchAll(/(prescriber|therapist) token[^\n]*\n\s+Authorization: Bearer (\S+)/g)].map((m) => [m[1], m[2]]),
        );
        resolve({ child, output, graphqlUrl: url, tokens });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready:\n${output}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
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
      expect(first.output).toMatch(/Collab:\s+ws:\/\/127\.0\.0\.1:\d+\/collab\/<planId>\?ticket=<collabTicket\(planId\) ticket>  \(or \?token=<jwt>\)/);
      // The banner opens with the care board, which signs in as the demo clinicians.
      const board = /^Care board: (http:\/\/127\.0\.0\.1:\d+)\/ {2}\(sign in as a demo clinician\)\nKAP Care Graph ready/m.exec(first.output)?.[1];
      expect(board, first.output).toBe(first.graphqlUrl.replace(/\/graphql$/, ''));
      expect(await (await fetch(`${board}/`)).text()).toContain('<div id="app">');
      expect((await fetch(`${board}/dev/demo-tokens`)).status).toBe(200);
      const prescriber = new GraphQLClient(first.graphqlUrl, { headers: { authorization: `Bearer ${first.tokens.prescriber}` } });
      const therapist = new GraphQLClient(first.graphqlUrl, { headers: { authorization: `Bearer ${first.tokens.therapist}` } });
      expect((await prescriber.request(PatientsDocument, {})).patients.edges).toHaveLength(3);
      expect((await therapist.request(PatientsDocument, {})).patients.edges).toHaveLength(3);
      await prescriber.request(CreatePatientDocument, { input: { firstName: 'Kept', lastName: 'Across', dateOfBirth: '1970-01-01' } });

      const exited = exitCode(first.child);
      first.child.kill('SIGTERM');
      expect(await exited).toBe(0);

      const second = await start({ DATA_DIR: dataDir });
      expect(second.output).not.toContain('Seeded');
      const again = new GraphQLClient(second.graphqlUrl, { headers: { authorization: `Bearer ${second.tokens.prescriber}` } });
      const { patients } = await again.request(PatientsDocument, {});
      expect(patients.edges.map((e) => e.node.firstName)).toContain('Kept');
      expect(patients.edges).toHaveLength(4);
      // A token printed by the first run still works: the development secret is kept under DATA_DIR.
      const old = new GraphQLClient(second.graphqlUrl, { headers: { authorization: `Bearer ${first.tokens.therapist}` } });
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
    [{ NODE_ENV: 'production' }, /^Invalid configuration: JWT_SECRET or JWT_JWKS_URL is required when NODE_ENV=production/],
  ])('fails at start on bad configuration %j with one clear line', async (env, line) => {
    const { code, output } = await run(env);
    expect(code).toBe(1);
    expect(output.trim()).toMatch(line);
    expect(output.trim().split('\n')).toHaveLength(1);
  });
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
