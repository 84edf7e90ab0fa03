import { createHash, randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse, print } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOAD } from '../src/config/config';
import { Role } from '../src/domain/roles';
import { DELIVERY_REPORT_CHANNEL, type DeliveryReport } from '../src/events/events';
import { EVENT_HUB_APPLICATION, REPORTS_APPLICATION } from '../src/events/hub';
import { MeDocument, RecordMeasureDocument, ScoreAlertsDocument } from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { collect, eventually, PATIENCE_MS } from './support/subscription';

const RECORD = print(RecordMeasureDocument);
/** PHQ-9 answers raising nothing (0 on item 9, a mild total) or a CRITICAL SUICIDAL_IDEATION alert. */
const ORDINARY = [1, 1, 1, 1, 0, 0, 0, 0, 0];
const CRITICAL = [1, 1, 1, 1, 0, 0, 0, 0, 2];

/**
 * A measure's live copy with its patient's plans: delivering it reads `treatment_plan`, which a test
 * locks to hold delivery back (recordMeasure never reads it).
 */
const MEASURES_WITH_PLANS = parse(
  'subscription ($patientId: ID!) { measureRecorded(patientId: $patientId) { id patient { treatmentPlans { id } } } }',
) as TypedDocumentNode<{ measureRecorded: { id: string } }, { patientId: string }>;

/** Apollo's automatic persisted query of RECORD: sent with the text once, then by its hash alone. */
const PERSISTED = {
  persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(RECORD).digest('hex') },
};

/**
 * recordMeasure over real HTTP, as `fetch` sees it: status, Retry-After and the body. `persisted`
 * sends it as a persisted query, with the text or by the hash alone.
 */
async function post(
  server: TestServer,
  by: TestClinician,
  patientId: string,
  responses: number[],
  persisted?: 'with text' | 'by hash',
) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${by.token}` },
    body: JSON.stringify({
      query: persisted === 'by hash' ? undefined : RECORD,
      variables: { input: { patientId, instrument: 'PHQ9', responses } },
      extensions: persisted ? PERSISTED : undefined,
    }),
  });
  const body = (await response.json()) as {
    data?: { recordMeasure: { id: string; alerts: { id: string; level: string }[] } };
    errors?: { message: string; extensions: { code: string } }[];
  };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

const busyDay = { firstName: 'Busy', lastName: 'Day', dateOfBirth: '1975-05-05' };

describe('writes beyond capacity', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      load: {
        ...DEFAULT_LOAD,
        deliveryConnections: 2,
        maxConcurrentRequests: 2,
        maxQueuedRequests: 2,
        maxQueueWaitMs: 200,
        // Nothing is subscribed here: only the count of requests refuses.
        maxDeliveryDelayMs: 600_000,
        maxDeliveryBacklog: 1_000_000,
      },
    });
  });
  afterAll(() => server.close());

  it('are refused at once with SERVICE_UNAVAILABLE and Retry-After, having done nothing; the rest are served', async () => {
    const prescriber = await server.clinician(Role.PRESCRIBER);
    const patientId = await patientWithTeam(prescriber, [], busyDay);
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

/** `count` clinicians, prescribers and therapists in turn, each signed in once so a care team can name them. */
async function signedIn(server: TestServer, count: number): Promise<TestClinician[]> {
  const clinicians: TestClinician[] = [];
  for (let i = 0; i < count; i++) {
    const clinician = await server.clinician(i % 2 ? Role.THERAPIST : Role.PRESCRIBER);
    await clinician.http.request(MeDocument);
    clinicians.push(clinician);
  }
  return clinicians;
}

describe('alerts under overload', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The request pool is 10 connections; admission keeps it from queueing past a few requests.
    server = await startTestServer({
      load: {
        ...DEFAULT_LOAD,
        deliveryConnections: 3,
        maxConcurrentRequests: 6,
        maxQueuedRequests: 12,
        maxQueueWaitMs: 500,
        maxDeliveryDelayMs: 250,
        maxDeliveryBacklog: 100,
      },
    });
  });
  afterAll(() => server.close());

  it('reach every recipient within 1 s of the write that raised them while ordinary writes are being shed', async () => {
    const writer = await server.clinician(Role.PRESCRIBER);
    const watchers = await signedIn(server, 20);
    const critical = await patientWithTeam(writer, watchers, busyDay);
    const busy = await Promise.all(
      Array.from({ length: 8 }, () => patientWithTeam(writer, watchers.slice(0, 3), busyDay)),
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

describe('writes while delivery is behind', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Refused by the count of undelivered events alone, so the test decides when that is.
    server = await startTestServer({
      load: {
        ...DEFAULT_LOAD,
        deliveryConnections: 3,
        maxConcurrentRequests: 16,
        maxQueuedRequests: 64,
        maxQueueWaitMs: 60_000,
        maxDeliveryDelayMs: 600_000,
        maxDeliveryBacklog: 4,
      },
    });
  });
  afterAll(() => server.close());

  it('are refused with SERVICE_UNAVAILABLE and Retry-After, while a CRITICAL alert goes out past stuck lesser work on every other connection, and each patient keeps its order', async () => {
    const writer = await server.clinician(Role.PRESCRIBER);
    const watchers = await signedIn(server, 3);
    // As many patients with lesser work as there are delivery connections.
    const slow: string[] = [];
    for (let i = 0; i < 3; i++) slow.push(await patientWithTeam(writer, [watchers[0]], busyDay));
    const critical = await patientWithTeam(writer, watchers, busyDay);

    const base = server.app.liveSubscriptions();
    // Lesser work that will be stuck: delivering a measure reads its patient's plans, which the test
    // locks.
    const measures = slow.map((patientId) =>
      collect(server.ws(watchers[0].token), MEASURES_WITH_PLANS, { patientId }),
    );
    const receivedAt = watchers.map(() => new Map<string, number>());
    const alerts = watchers.map((watcher, i) =>
      server.ws(watcher.token).subscribe<{ scoreAlert: { id: string } }>(
        { query: print(ScoreAlertsDocument), variables: {} },
        {
          next: (result) => result.data && receivedAt[i].set(result.data.scoreAlert.id, performance.now()),
          error: () => undefined,
          complete: () => undefined,
        },
      ),
    );
    await eventually(() => server.app.liveSubscriptions() === base + slow.length + watchers.length);

    const countOf = async (patientId: string) =>
      (
        await server.sql<{ n: number }>('select count(*)::int as n from measure where patient_id = $1', [
          patientId,
        ])
      )[0].n;
    const lock = new pg.Client({ connectionString: server.databaseUrl });
    await lock.connect();
    // Known to the server by its hash, for a write whose text the request does not carry.
    expect((await post(server, writer, critical, ORDINARY, 'with text')).status).toBe(200);
    let locked = false;
    try {
      await lock.query('begin');
      await lock.query('lock table treatment_plan in access exclusive mode');
      locked = true;
      const written = slow.map((): string[] => []);
      const write = async (i: number) => {
        const answer = await post(server, writer, slow[i], ORDINARY);
        expect(answer.status).toBe(200);
        written[i].push(answer.body.data!.recordMeasure.id);
      };
      for (let i = 0; i < slow.length; i++) await write(i);
      await eventually(() => server.app.undeliveredEvents() === 3);

      // Three events behind, one under the bound: a CRITICAL alert is written, and reaches every
      // recipient while the measures before it are still stuck.
      const answer = await post(server, writer, critical, CRITICAL);
      expect(answer.status).toBe(200);
      const answeredAt = performance.now();
      const alert = answer.body.data!.recordMeasure.alerts.find((a) => a.level === 'CRITICAL')!;
      await eventually(() => receivedAt.every((got) => got.has(alert.id)));
      const slowest = Math.max(0, ...receivedAt.map((got) => got.get(alert.id)! - answeredAt));
      console.info(
        `delivery behind: CRITICAL alert past 3 stuck measures, slowest recipient ${Math.round(slowest)} ms after the answer`,
      );
      expect(slowest).toBeLessThan(1000);
      for (const watcher of measures) expect(watcher.received).toEqual([]);

      await eventually(() => server.app.undeliveredEvents() === 3);
      await write(0);
      await eventually(() => server.app.undeliveredEvents() === 4);

      // At the bound: writes are refused before they do anything, over HTTP and over the socket;
      // reads are still served.
      const before = await countOf(critical);
      const refused = await post(server, writer, critical, CRITICAL);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('1');
      expect(refused.body).toEqual({
        errors: [
          { message: expect.stringContaining('send it again'), extensions: { code: 'SERVICE_UNAVAILABLE' } },
        ],
      });
      const byHash = await post(server, writer, critical, CRITICAL, 'by hash');
      expect([byHash.status, byHash.retryAfter, byHash.body.errors]).toEqual([
        503,
        '1',
        [{ message: refused.body.errors![0].message, extensions: { code: 'SERVICE_UNAVAILABLE' } }],
      ]);
      const overSocket = collect(server.ws(writer.token), RecordMeasureDocument, {
        input: { patientId: critical, instrument: 'PHQ9', responses: CRITICAL },
      });
      await eventually(() => overSocket.errors.length > 0);
      expect(overSocket.errors).toEqual([
        expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE' } }),
      ]);
      expect(await countOf(critical)).toBe(before);
      expect((await writer.http.request(MeDocument)).me.id).toBeTruthy();

      // Once the lesser work moves, each patient's measures arrive in their order, and writes are
      // served again.
      await lock.query('commit');
      locked = false;
      for (const [i, watcher] of measures.entries()) {
        await watcher.until(written[i].length);
        expect(watcher.received.map((r) => r.measureRecorded.id)).toEqual(written[i]);
      }
      await eventually(() => server.app.undeliveredEvents() === 0);
      expect((await post(server, writer, critical, ORDINARY)).status).toBe(200);
    } finally {
      if (locked) await lock.query('rollback');
      await lock.end();
      for (const watcher of measures) watcher.stop();
      for (const stop of alerts) stop();
    }
  }, 120_000);
});

/** A gauge's value in the instance's /metrics. */
async function gauge(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('writes while another instance is behind', () => {
  // Refused by the count of undelivered events alone, so the test decides when: 2 on the instance
  // that falls behind, and so on every instance, though the writing one allows far more of its own.
  const load = {
    ...DEFAULT_LOAD,
    maxQueuedRequests: 64,
    maxQueueWaitMs: 60_000,
    maxDeliveryDelayMs: 600_000,
    maxDeliveryBacklog: 2,
    deliveryReportIntervalMs: 50,
    deliveryReportExpiryMs: 1000,
  };
  /** Where the subscriber is, and its delivery will be held back. */
  let behind: TestServer;
  /** Another instance on the same database, with no subscriber: where the writes are sent. */
  let writing: TestServer;
  let lock: pg.Client;
  let behindClosed: Promise<void> | undefined;
  beforeAll(async () => {
    behind = await startTestServer({ load });
    writing = await startTestServer({
      databaseUrl: behind.databaseUrl,
      load: { ...load, maxDeliveryBacklog: 1_000_000 },
    });
    lock = new pg.Client({ connectionString: behind.databaseUrl });
    await lock.connect();
  });
  afterAll(async () => {
    await lock.end();
    await writing.close();
    await (behindClosed ?? behind.close());
  });

  it('hear reports sent over a connection of their own, never over the LISTEN connection, and opened again once lost', async () => {
    const writer = await writing.clinician(Role.PRESCRIBER);
    const [watcher] = await signedIn(writing, 1);
    const patientId = await patientWithTeam(writer, [watcher], busyDay);
    const measures = collect(behind.ws(watcher.token), MEASURES_WITH_PLANS, { patientId });
    await eventually(() => behind.app.liveSubscriptions() === 1);
    const connections = (application: string) =>
      behind.sql<{ pid: number; query: string }>(
        'select pid, query from pg_stat_activity where application_name = $1 and datname = current_database()',
        [application],
      );
    const REPORT = 'select pg_notify($1, $2)';
    let locked = false;
    try {
      await lock.query('begin');
      await lock.query('lock table treatment_plan in access exclusive mode');
      locked = true;
      for (let i = 0; i < 2; i++) expect((await post(writing, writer, patientId, ORDINARY)).status).toBe(200);
      await eventually(async () => (await gauge(writing, 'kap_live_network_events_undelivered')) === 2);
      // A NOTIFY waits for the notification queue's lock behind every write's commit, and a listening
      // connection hears nothing while it waits: the two instances' LISTEN connections have only listened.
      const listening = await connections(EVENT_HUB_APPLICATION);
      expect(listening.length).toBe(2);
      for (const { query } of listening) expect(query).toMatch(/^listen /);
      // Only the instance that is behind has reported.
      const [reporting, ...others] = await connections(REPORTS_APPLICATION);
      expect([reporting.query, others]).toEqual([REPORT, []]);

      // Cut off while behind: its next report goes over another connection, and is heard.
      await behind.sql('select pg_terminate_backend($1)', [reporting.pid]);
      await eventually(async () =>
        (await connections(REPORTS_APPLICATION)).some(
          ({ pid, query }) => pid !== reporting.pid && query === REPORT,
        ),
      );
      expect(await gauge(writing, 'kap_live_network_events_undelivered')).toBe(2);

      await lock.query('commit');
      locked = false;
      await measures.until(2);
      await eventually(async () => (await gauge(writing, 'kap_live_network_events_undelivered')) === 0);
    } finally {
      if (locked) await lock.query('rollback');
      measures.stop();
    }
  }, 120_000);

  it("are refused on an instance whose own delivery is not behind, by the other's limits, until the other has caught up or its last report has expired", async () => {
    const writer = await writing.clinician(Role.PRESCRIBER);
    const [watcher] = await signedIn(writing, 1);
    const patientId = await patientWithTeam(writer, [watcher], busyDay);
    const countOf = async () =>
      (
        await writing.sql<{ n: number }>('select count(*)::int as n from measure where patient_id = $1', [
          patientId,
        ])
      )[0].n;
    const write = () => post(writing, writer, patientId, ORDINARY);

    const measures = collect(behind.ws(watcher.token), MEASURES_WITH_PLANS, { patientId });
    await eventually(() => behind.app.liveSubscriptions() === 1);
    let locked = false;
    try {
      await lock.query('begin');
      await lock.query('lock table treatment_plan in access exclusive mode');
      locked = true;
      // Two writes, each raising an event the other instance cannot deliver while the lock holds.
      const written: string[] = [];
      for (let i = 0; i < 2; i++) {
        const answer = await write();
        expect(answer.status).toBe(200);
        written.push(answer.body.data!.recordMeasure.id);
      }
      await eventually(() => behind.app.undeliveredEvents() === 2);
      await eventually(async () => (await gauge(writing, 'kap_live_network_events_undelivered')) === 2);

      // The writing instance has nothing of its own to deliver, and refuses writes all the same,
      // having done nothing; it still answers reads.
      expect(writing.app.undeliveredEvents()).toBe(0);
      const before = await countOf();
      const refused = await write();
      expect([refused.status, refused.retryAfter, refused.body]).toEqual([
        503,
        '1',
        {
          errors: [
            {
              message: expect.stringContaining('send it again'),
              extensions: { code: 'SERVICE_UNAVAILABLE' },
            },
          ],
        },
      ]);
      expect(await countOf()).toBe(before);
      expect((await writer.http.request(MeDocument)).me.id).toBeTruthy();

      // Once the other instance has delivered what it held, it says so, and writes are served again.
      await lock.query('commit');
      locked = false;
      await measures.until(2);
      expect(measures.received.map((r) => r.measureRecorded.id)).toEqual(written);
      await eventually(async () => (await gauge(writing, 'kap_live_network_events_undelivered')) === 0);
      expect((await write()).status).toBe(200);
      await measures.until(3);

      // Behind again, then closed while still behind: its last report stops holding writes once it
      // has expired, though what it held is still undelivered.
      await lock.query('begin');
      await lock.query('lock table treatment_plan in access exclusive mode');
      locked = true;
      for (let i = 0; i < 2; i++) expect((await write()).status).toBe(200);
      await eventually(() => behind.app.undeliveredEvents() === 2);
      await eventually(async () => (await write()).status === 503);
      behindClosed = behind.close();
      await eventually(async () => (await write()).status === 200);
      expect(behind.app.undeliveredEvents()).toBeGreaterThan(0);
      await lock.query('commit');
      locked = false;
      await behindClosed;
    } finally {
      if (locked) await lock.query('rollback');
      measures.stop();
    }
  }, 120_000);
});

describe('writes while another instance has stalled', () => {
  // This instance would refuse nothing by its own limits: only the stalled instance's report, aged
  // and judged by the limits it carries, can refuse here.
  const load = {
    ...DEFAULT_LOAD,
    maxDeliveryDelayMs: 600_000,
    maxDeliveryBacklog: 1_000_000,
    deliveryReportIntervalMs: 50,
    deliveryReportExpiryMs: 2000,
  };
  let server: TestServer;
  let stalled: pg.Client;
  beforeAll(async () => {
    server = await startTestServer({ load });
    stalled = new pg.Client({ connectionString: server.databaseUrl });
    await stalled.connect();
  });
  afterAll(async () => {
    await stalled.end();
    await server.close();
  });

  it('are refused once its only report has aged past the delay it allows, and served again once it has expired', async () => {
    const writer = await server.clinician(Role.PRESCRIBER);
    const patientId = await patientWithTeam(writer, [], busyDay);
    const write = () => post(server, writer, patientId, ORDINARY);
    expect((await write()).status).toBe(200);
    // One report, as the hub sends it, of an event that has waited less than the reporter's own delay
    // allowed (300 ms), and then nothing: the instance is stuck, not caught up.
    await stalled.query('select pg_notify($1, $2)', [
      DELIVERY_REPORT_CHANNEL,
      JSON.stringify({
        instance: randomUUID(),
        events: 1,
        oldestWaitMs: 250,
        limits: { delayMs: 300, backlog: 100 },
      } satisfies DeliveryReport),
    ]);
    await eventually(async () => (await gauge(server, 'kap_live_network_events_undelivered')) === 1);
    await eventually(async () => (await write()).status === 503);
    expect(await gauge(server, 'kap_live_network_oldest_undelivered_seconds')).toBeGreaterThan(0.3);
    await eventually(async () => (await write()).status === 200);
    expect(await gauge(server, 'kap_live_network_events_undelivered')).toBe(0);
  }, 60_000);
});
