import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  MeDocument,
  RecordMeasureDocument,
  ScoreAlertsDocument,
} from './generated/graphql';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { eventually, PATIENCE_MS } from './support/subscription';

const RECORD = print(RecordMeasureDocument);
/** PHQ-9 answers raising nothing (0 on item 9, a mild total) or a CRITICAL SUICIDAL_IDEATION alert. */
const ORDINARY = [1, 1, 1, 1, 0, 0, 0, 0, 0];
const CRITICAL = [1, 1, 1, 1, 0, 0, 0, 0, 2];

/** recordMeasure over real HTTP, as `fetch` sees it: status, Retry-After and the body. */
async function post(server: TestServer, by: TestClinician, patientId: string, responses: number[]) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${by.token}` },
    body: JSON.stringify({
      query: RECORD,
      variables: { input: { patientId, instrument: 'PHQ9', responses } },
    }),
  });
  const body = (await response.json()) as {
    data?: { recordMeasure: { id: string; alerts: { id: string; level: string }[] } };
    errors?: { message: string; extensions: { code: string } }[];
  };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

async function patientWithTeam(by: TestClinician, team: TestClinician[]): Promise<string> {
  const { createPatient } = await by.http.request(CreatePatientDocument, {
    input: { firstName: 'Busy', lastName: 'Day', dateOfBirth: '1975-05-05' },
  });
  for (const member of team)
    await by.http.request(AddCareTeamMemberDocument, { patientId: createPatient.id, email: member.email });
  return createPatient.id;
}

describe('writes beyond capacity', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      load: { deliveryConnections: 2, maxConcurrentRequests: 2, maxQueuedRequests: 2, maxQueueWaitMs: 200 },
    });
  });
  afterAll(() => server.close());

  it('are refused at once with SERVICE_UNAVAILABLE and Retry-After, having done nothing; the rest are served', async () => {
    const prescriber = await server.clinician(Role.PRESCRIBER);
    const patientId = await patientWithTeam(prescriber, []);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => post(server, prescriber, patientId, ORDINARY)),
    );
    const served = answers.filter((a) => a.status === 200);
    const shed = answers.filter((a) => a.status === 503);
    expect(served.length + shed.length).toBe(40);
    expect(shed.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThanOrEqual(4);
    for (const answer of served) expect(answer.body.errors).toBeUndefined();
    for (const answer of shed) {
      expect(answer.retryAfter).toBe('1');
      expect(answer.body).toEqual({
        errors: [
          { message: expect.stringContaining('send it again'), extensions: { code: 'SERVICE_UNAVAILABLE' } },
        ],
      });
    }
    const [{ n }] = await server.sql<{ n: number }>(
      'select count(*)::int as n from measure where patient_id = $1',
      [patientId],
    );
    expect(n).toBe(served.length);
    // Once the burst is over, the same request is served.
    expect((await post(server, prescriber, patientId, ORDINARY)).status).toBe(200);
  });
});

describe('alerts under overload', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The request pool is 10 connections; admission keeps it from queueing past a few requests.
    server = await startTestServer({
      load: { deliveryConnections: 3, maxConcurrentRequests: 6, maxQueuedRequests: 12, maxQueueWaitMs: 500 },
    });
  });
  afterAll(() => server.close());

  it('reach every recipient within 1 s of the write that raised them while ordinary writes are being shed', async () => {
    const writer = await server.clinician(Role.PRESCRIBER);
    const watchers: TestClinician[] = [];
    for (let i = 0; i < 20; i++) {
      const clinician = await server.clinician(i % 2 ? Role.THERAPIST : Role.PRESCRIBER);
      await clinician.http.request(MeDocument);
      watchers.push(clinician);
    }
    const critical = await patientWithTeam(writer, watchers);
    const busy = await Promise.all(
      Array.from({ length: 8 }, () => patientWithTeam(writer, watchers.slice(0, 3))),
    );

    // When each watcher received each alert.
    const receivedAt = watchers.map(() => new Map<string, number>());
    const base = server.app.liveSubscriptions();
    watchers.forEach((watcher, i) =>
      server.ws(watcher.token).subscribe<{ scoreAlert: { id: string } }>(
        { query: print(ScoreAlertsDocument), variables: {} },
        {
          next: (result) => result.data && receivedAt[i].set(result.data.scoreAlert.id, performance.now()),
          error: () => undefined,
          complete: () => undefined,
        },
      ),
    );
    await eventually(() => server.app.liveSubscriptions() === base + watchers.length);

    // Ordinary writes from 40 clients at once, each sending its next as soon as it has an answer (or
    // shortly after a refusal: a client that ignored Retry-After altogether would only spin).
    const counts = { served: 0, shed: 0 };
    let stopping = false;
    const load = Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        while (!stopping) {
          const { status } = await post(server, writer, busy[i % busy.length], ORDINARY);
          if (status === 503) {
            counts.shed++;
            await new Promise((resolve) => setTimeout(resolve, 25));
          } else counts.served++;
        }
      }),
    );
    try {
      await eventually(() => counts.shed > 20);
      const latencies: number[] = [];
      const shedBefore = counts.shed;
      for (let k = 0; k < 5; k++) {
        // The clinician's client retries a refused write, as Retry-After says it may (sooner here).
        let answer = await post(server, writer, critical, CRITICAL);
        while (answer.status === 503) answer = await post(server, writer, critical, CRITICAL);
        const answeredAt = performance.now();
        const alert = answer.body.data!.recordMeasure.alerts.find((a) => a.level === 'CRITICAL')!;
        await eventually(() => receivedAt.every((got) => got.has(alert.id)), PATIENCE_MS);
        latencies.push(Math.max(...receivedAt.map((got) => got.get(alert.id)! - answeredAt)));
      }
      // The writes were being shed all along: the instance was over capacity while these went out.
      expect(counts.shed).toBeGreaterThan(shedBefore);
      console.info(
        `overload: ${counts.served} writes served, ${counts.shed} shed; CRITICAL alert to all 20 recipients, slowest ${latencies.map((l) => Math.round(l)).join(', ')} ms`,
      );
      for (const latency of latencies) expect(latency).toBeLessThan(1000);
    } finally {
      stopping = true;
      await load;
    }
  }, 120_000);
});
