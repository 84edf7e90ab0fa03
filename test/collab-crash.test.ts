import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { afterAll, expect, it } from 'vitest';
import { createTokenService } from '../src/auth/tokens';
import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
} from './generated/graphql';
import { childEnv } from './support/childEnv';
import { collabClient, type CollabClient } from './support/collab';
import { createTestDatabase, TEST_SECRET } from './support/server';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The built server as its own process, on the given database; resolves with its base URL. */
function serve(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: childEnv({
      PORT: '0',
      DATABASE_URL: databaseUrl,
      JWT_SECRET: TEST_SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /GraphQL:\s+(\S+)\/graphql/.exec(output)?.[1];
      if (url) resolve({ child, url });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${code} before it was ready:\n${output}`)),
    );
  });
}

it('keeps every edit an observer saw when the server is killed mid-stream', async () => {
  const databaseUrl = await createTestDatabase();
  const tokens = await createTokenService({ kind: 'secret', secret: TEST_SECRET }, '/nonexistent');
  const prescriber = await tokens.sign!(
    { sub: 'crash-rx', email: 'rx@crash.example', name: 'Rx Crash', role: 'PRESCRIBER' as never },
    3600,
  );
  const therapist = await tokens.sign!(
    { sub: 'crash-tx', email: 'tx@crash.example', name: 'Tx Crash', role: 'THERAPIST' as never },
    3600,
  );

  let server = await serve(databaseUrl);
  const http = (token: string) =>
    new GraphQLClient(`${server.url}/graphql`, { headers: { authorization: `Bearer ${token}` } });
  await http(therapist).request(MeDocument);
  const { createPatient } = await http(prescriber).request(CreatePatientDocument, {
    input: { firstName: 'Kim', lastName: 'Crash', dateOfBirth: '1985-05-05' },
  });
  await http(prescriber).request(AddCareTeamMemberDocument, {
    patientId: createPatient.id,
    email: 'tx@crash.example',
  });
  const { createTreatmentPlan } = await http(prescriber).request(CreateTreatmentPlanDocument, {
    input: { patientId: createPatient.id, protocol: 'SEQUENTIAL', route: 'IV', plannedDosingSessions: 6 },
  });
  const planId = createTreatmentPlan.id;

  const writer = await collabClient(server.url, planId, prescriber);
  const observer = await collabClient(server.url, planId, therapist);
  let seen = '';
  observer.doc.getText('medication').observe(() => (seen = observer.text('medication')));

  // Edits stream in, one update each; the server is killed once the observer has seen some.
  const medication = writer.doc.getText('medication');
  let i = 0;
  const stream = setInterval(() => medication.insert(medication.length, `${i++ % 10}`), 2);
  await observer.until(() => seen.length >= 40, 'the observer to see edits');
  server.child.kill('SIGKILL');
  await new Promise((resolve) => server.child.once('exit', resolve));
  clearInterval(stream);
  const sawBeforeCrash = seen;
  writer.destroy();
  observer.destroy();

  server = await serve(databaseUrl);
  let reopened: CollabClient | undefined;
  try {
    reopened = await collabClient(server.url, planId, therapist);
    expect(sawBeforeCrash.length).toBeGreaterThanOrEqual(40);
    expect(reopened.text('medication').startsWith(sawBeforeCrash)).toBe(true);
  } finally {
    reopened?.destroy();
    server.child.kill('SIGTERM');
  }
}, 60_000);
