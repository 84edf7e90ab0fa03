import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/roles';
import { MeDocument } from '../generated/graphql';
import { planWithTeam } from '../support/careTeam';
import { collabClient } from '../support/collab';
import { startTestServer, type TestClinician, type TestServer } from '../support/server';
import { eventually } from '../support/subscription';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let planId: string;
const marker = `Zz${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
  ({ planId } = await planWithTeam(prescriber, therapist, {
    firstName: marker,
    lastName: `${marker}Last`,
    dateOfBirth: '1975-03-04',
  }));
});
afterAll(() => server.close());

/** The log lines (parsed) with this message. */
const lines = (msg: string) =>
  server.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);

/** Nothing a log line must never hold: a token, a patient's name or date of birth, document text. */
function expectNoSecrets() {
  const all = server.logs.join('');
  for (const secret of [prescriber.token, therapist.token, marker, '1975-03-04', 'SECRET-DOSE'])
    expect(all).not.toContain(secret);
}

describe('socket logs', () => {
  it('graphql-ws: connects with request and clinician, refusals and closes with their code', async () => {
    const requestId = `ws-${randomUUID()}`;
    const client = server.ws(prescriber.token, {
      lazy: false,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers: { 'x-request-id': requestId } });
        }
      },
    });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    await eventually(() => lines('graphql-ws connected').some((l) => l.connectionId === requestId));
    expect(lines('graphql-ws connected').find((l) => l.connectionId === requestId)).toMatchObject({
      level: 30,
      clinicianSub: prescriber.sub,
    });
    await client.dispose();
    await eventually(() => lines('graphql-ws closed').some((l) => l.connectionId === requestId));
    expect(lines('graphql-ws closed').find((l) => l.connectionId === requestId)).toMatchObject({
      code: 1000,
      clinicianSub: prescriber.sub,
    });

    const refused = server.ws('not-a-token', { lazy: false });
    await new Promise<void>((resolve) => refused.on('closed', () => resolve()));
    await eventually(() => lines('graphql-ws connection refused').length > 0);
    expect(lines('graphql-ws connection refused')[0]).toMatchObject({ code: 4401 });
    expectNoSecrets();
  });

  it('collab: connects, refused edits by section (not content), refused upgrades and closes with their code', async () => {
    const editor = await collabClient(server.url, planId, therapist.token);
    await eventually(() =>
      lines('collab connected').some((l) => l.clinicianId !== undefined && l.planId === planId),
    );
    editor.doc.getText('medication').insert(0, 'SECRET-DOSE');
    await eventually(() => editor.denied.length === 1);
    const [refusal] = lines('live-document edit refused');
    expect(refusal).toMatchObject({ level: 30, planId });
    expect(refusal.reason).toContain('"medication"');
    expect(refusal.requestId).toEqual(expect.any(String));
    expect(refusal.clinicianId).toEqual(expect.any(String));
    editor.destroy();
    await eventually(() => lines('collab closed').length > 0);
    expect(lines('collab closed')[0]).toMatchObject({
      clinicianId: refusal.clinicianId,
      code: expect.any(Number),
    });

    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/collab/${planId}?token=forged`);
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(4401);
    await eventually(() => lines('collab connection refused').length > 0);
    expect(lines('collab connection refused')[0]).toMatchObject({ code: 4401 });
    expectNoSecrets();
  });

  it('cuts client-controlled strings in log lines to a few hundred characters', async () => {
    const operationName = `Op${'x'.repeat(200_000)}`;
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${prescriber.token}` },
      body: JSON.stringify({ query: `query ${operationName} { me { name } }`, operationName }),
    });
    await eventually(() => lines('request').some((l) => String(l.operation).startsWith('Opxxx')));
    const logged = lines('request').find((l) => String(l.operation).startsWith('Opxxx'))!;
    expect(String(logged.operation).length).toBeLessThanOrEqual(201);
    expect(server.logs.every((chunk) => chunk.length < 2_000)).toBe(true);
  });
});
