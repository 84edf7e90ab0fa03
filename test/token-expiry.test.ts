import { decodeJwt } from 'jose';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { CreatePatientDocument, RecordMeasureDocument, ScoreAlertsDocument } from './generated/graphql';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { collect, eventually, type Collector } from './support/subscription';

let server: TestServer;
let prescriber: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
});
afterAll(() => server.close());

/** A token for the same clinician that expires `seconds` from now. */
const tokenFor = (clinician: TestClinician, seconds: number) =>
  server.tokens.sign!(
    { sub: clinician.sub, email: clinician.email, name: clinician.name, role: clinician.role },
    seconds,
  );

/** A PHQ-9 with item 9 at 1: raises a SUICIDAL_IDEATION alert each time. */
const raiseAlert = async (patientId: string) =>
  (
    await prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'PHQ9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
    })
  ).recordMeasure.alerts[0].id;

type AlertPage = { alerts: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string | null } } };

/** One query over graphql-ws. */
function query<T>(client: Client, text: string, variables: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    let data: T;
    client.subscribe<T>(
      { query: text, variables },
      {
        next: (result) =>
          result.errors ? reject(new Error(JSON.stringify(result.errors))) : (data = result.data as T),
        error: reject,
        complete: () => resolve(data),
      },
    );
  });
}

describe('graphql-ws and the token a connection was opened with', () => {
  it('ends every subscription with close 4401 when the token expires; a client back with a fresh token catches up through alerts(after:)', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, {
      input: { firstName: 'Sam', lastName: 'Expiry', dateOfBirth: '1975-07-07' },
    });
    const patientId = createPatient.id;
    const shortLived = await tokenFor(prescriber, 5);
    const expiresAt = decodeJwt(shortLived).exp! * 1000;
    const base = server.app.liveSubscriptions();
    const watchers: Collector<unknown>[] = [];
    let closedAt = 0;
    const closed = new Promise<number>((resolve) => {
      const client = server.ws(shortLived, {
        on: {
          closed: (event) => {
            closedAt = Date.now();
            resolve((event as { code: number }).code);
          },
        },
      });
      watchers.push(
        collect(client, ScoreAlertsDocument, { patientId }),
        collect(client, ScoreAlertsDocument, {}),
      );
    });
    await eventually(() => server.app.liveSubscriptions() === base + 2);
    const seen = await raiseAlert(patientId);
    for (const watcher of watchers) await watcher.until(1);

    expect(await closed).toBe(4401);
    expect(closedAt).toBeGreaterThanOrEqual(expiresAt);
    // Both subscriptions ended, on the server too, and each client sink heard why.
    await eventually(() => server.app.liveSubscriptions() === base);
    for (const watcher of watchers) {
      expect(watcher.received).toHaveLength(1);
      expect(watcher.errors.map((e) => (e as { code: number }).code)).toEqual([4401]);
    }

    const missed = [await raiseAlert(patientId), await raiseAlert(patientId)];
    const fresh = server.ws(await tokenFor(prescriber, 3600));
    // Newest first, page by page, back to the last alert the client had.
    const caughtUp: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { alerts }: AlertPage = await query<AlertPage>(
        fresh,
        'query ($patientId: ID, $after: String) { alerts(patientId: $patientId, unacknowledgedOnly: false, first: 1, after: $after) { edges { node { id } } pageInfo { endCursor } } }',
        { patientId, after },
      );
      const id = alerts.edges[0]?.node.id;
      if (id === undefined || id === seen) break;
      caughtUp.push(id);
      after = alerts.pageInfo.endCursor;
    }
    expect(caughtUp).toEqual([...missed].reverse());
  });

  it('keeps a connection whose token outlives a Node timer (30 days) open', async () => {
    const events: string[] = [];
    const client = server.ws(await tokenFor(prescriber, 30 * 24 * 3600), {
      lazyCloseTimeout: 60_000,
      on: { connected: () => events.push('connected'), closed: () => events.push('closed') },
    });
    // A timer past 2^31 ms fires at once: the socket would close between these two queries.
    for (let i = 0; i < 2; i++)
      expect(await query(client, '{ me { id } }', {})).toEqual({ me: { id: expect.any(String) } });
    expect(events).toEqual(['connected']);
  });
});
