import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  MeDocument,
  PlanSectionChangedDocument,
  RecordMeasureDocument,
  ScoreAlertsDocument,
  UpdatePlanSectionDocument,
} from './generated/graphql';
import { collabClient, type CollabClient } from './support/collab';
import { patientWithTeam, planFor } from './support/careTeam';
import { startTestServer, type TestServer } from './support/server';
import { collect, eventually } from './support/subscription';

// Peers that never say goodbye: one gone silent (answers no ping), one that stopped reading.
// Each test starts its own server, with the limits it needs.

let server: TestServer | undefined;
const collabClients: CollabClient[] = [];
afterEach(async () => {
  for (const client of collabClients.splice(0)) client.destroy();
  await server?.close();
  server = undefined;
});

/** A client socket that never answers pings: what the server sees of a peer that vanished. */
class SilentWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { autoPong: false });
  }
}

async function careTeam(s: TestServer) {
  const prescriber = await s.clinician(Role.PRESCRIBER);
  const therapist = await s.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument); // signs in once, so the care team can name them
  const patientId = await patientWithTeam(prescriber, therapist, {
    firstName: 'Sam',
    lastName: 'Socket',
    dateOfBirth: '1985-05-05',
  });
  return { prescriber, therapist, patientId };
}

// A heartbeat short enough to keep the tests quick, long enough that a peer answering from a test
// process starved of CPU for a moment is not taken for a silent one (it must answer within one beat).
const HEARTBEAT = { heartbeatMs: 1_000, maxBufferedBytes: 8 * 1024 * 1024 };

describe('WebSocket heartbeat', () => {
  it('pings a /graphql socket at one cadence only, the configured heartbeat (graphql-ws pings no more of its own)', async () => {
    // The heartbeat ticks for every socket from the server's start, graphql-ws's keep-alive would
    // ping 12 s after the connection: any ping of its own falls between two beats, making a gap of
    // at most half a beat. Watched until a ping comes after those 12 s.
    const heartbeatMs = 7_000;
    server = await startTestServer({ sockets: { ...HEARTBEAT, heartbeatMs } });
    const { prescriber, patientId } = await careTeam(server);
    const opened = Date.now();
    const pings: number[] = [];
    class PingCountingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        this.on('ping', () => pings.push(Date.now()));
      }
    }
    const watching = collect(
      server.ws(prescriber.token, { webSocketImpl: PingCountingWebSocket }),
      ScoreAlertsDocument,
      { patientId },
    );
    const s = server;
    await eventually(() => s.app.liveSubscriptions() === 1);
    await eventually(() => pings.length >= 2 && pings.some((at) => at - opened >= 13_000), 40_000);
    const gaps = pings.slice(1).map((at, i) => at - pings[i]);
    expect(
      gaps.every((gap) => gap >= heartbeatMs * 0.6),
      `gaps between pings: ${gaps.join(', ')} ms`,
    ).toBe(true);
    expect(watching.errors).toEqual([]);
  });

  it('pings many sockets in turns spread over the heartbeat, not all in one go', async () => {
    const heartbeatMs = 3_000;
    server = await startTestServer({ sockets: { ...HEARTBEAT, heartbeatMs } });
    const { prescriber } = await careTeam(server);
    const firstPing = new Map<WebSocket, number>();
    class FirstPingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        this.on('ping', () => {
          if (!firstPing.has(this)) firstPing.set(this, Date.now());
        });
      }
    }
    const SOCKETS = 100;
    for (let i = 0; i < SOCKETS; i++)
      server.ws(prescriber.token, { lazy: false, webSocketImpl: FirstPingWebSocket });
    await eventually(() => firstPing.size === SOCKETS, 4 * heartbeatMs);
    // In one go, at least half of them would be pinged within a moment of each other (all, or the
    // half open when a heartbeat began); in turns, two at a time, a twentieth of the heartbeat sees ~5.
    const times = [...firstPing.values()].sort((a, b) => a - b);
    const window = heartbeatMs / 20;
    const crowded = Math.max(...times.map((at) => times.filter((t) => t >= at && t < at + window).length));
    expect(crowded, `first pings at ${times.map((t) => t - times[0]).join(', ')} ms`).toBeLessThan(
      SOCKETS / 2,
    );
  });

  it('cuts a graphql-ws peer that stops answering pings, ending its subscriptions; a peer that answers keeps receiving', async () => {
    server = await startTestServer({ sockets: HEARTBEAT });
    const { prescriber, therapist, patientId } = await careTeam(server);
    const silent = collect(
      server.ws(therapist.token, { webSocketImpl: SilentWebSocket }),
      ScoreAlertsDocument,
      { patientId },
    );
    const answering = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId });
    const s = server;
    await eventually(() => s.app.liveSubscriptions() === 2);

    // Pinged at one heartbeat, cut at the next.
    await eventually(() => s.app.liveSubscriptions() === 1);
    await eventually(() => silent.errors.length > 0);
    expect(silent.errors[0]).toMatchObject({ code: 1006 });
    expect(server.logs.some((line) => line.includes('did not answer a ping'))).toBe(true);

    // The other socket was pinged at the same heartbeats, answered, and is still served.
    await prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'PHQ9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 1] },
    });
    const [alert] = await answering.until(1);
    expect(alert.scoreAlert.kind).toBe('SUICIDAL_IDEATION');
    expect(answering.errors).toEqual([]);
    expect(silent.received).toEqual([]);
  });

  it("cuts a live document's peer that stops answering pings, and the others see it leave", async () => {
    server = await startTestServer({ sockets: HEARTBEAT });
    const { prescriber, therapist, patientId } = await careTeam(server);
    const planId = await planFor(prescriber, patientId);
    const present = await collabClient(server.url, planId, prescriber.token);
    collabClients.push(present);
    const silent = await collabClient(server.url, planId, therapist.token, { autoPong: false });
    collabClients.push(silent);
    const silentId = silent.doc.clientID;
    silent.provider.awareness.setLocalStateField('user', { name: 'therapist' });
    await eventually(() => present.provider.awareness.getStates().has(silentId));

    // Once cut, the silent client must not come back on its own, or it would be present again.
    await new Promise<void>((resolve) =>
      silent.provider.on('status', ({ status }: { status: string }) => {
        if (status !== 'disconnected') return;
        silent.provider.shouldConnect = false;
        resolve();
      }),
    );
    await eventually(() => !present.provider.awareness.getStates().has(silentId));
    expect(present.provider.wsconnected).toBe(true);
  });
});

describe('a peer that stops reading', () => {
  it('is cut once more than the limit waits to be sent to it; its subscriptions end and the others receive everything', async () => {
    server = await startTestServer({ sockets: { heartbeatMs: 60_000, maxBufferedBytes: 256 * 1024 } });
    const { prescriber, therapist, patientId } = await careTeam(server);
    const planId = await planFor(prescriber, patientId);
    const sockets: WebSocket[] = [];
    class PausableWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        sockets.push(this);
      }
    }
    const stalled = server.ws(prescriber.token, { webSocketImpl: PausableWebSocket });
    // Ten subscriptions on the stalled socket: each section change is ten copies for it, so the
    // kernel's buffers (a few MiB on loopback) fill after a few changes, not after dozens.
    const stalledFeeds = Array.from({ length: 10 }, () =>
      collect(stalled, PlanSectionChangedDocument, { planId }),
    );
    const reading = collect(server.ws(prescriber.token), PlanSectionChangedDocument, { planId });
    const s = server;
    await eventually(() => s.app.liveSubscriptions() === 11);
    sockets[0].pause();

    // Changes until the stalled socket is cut. Delivery runs behind the mutations' responses (more so
    // on a busy machine), so past 20 changes (20 MB for the stalled socket) the cut is awaited.
    let changes = 0;
    while (s.app.liveSubscriptions() > 1 && changes < 20) {
      await therapist.http.request(UpdatePlanSectionDocument, {
        planId,
        key: 'intentions',
        text: `${changes} ${'x'.repeat(99_000)}`,
      });
      changes++;
    }
    await eventually(() => s.app.liveSubscriptions() === 1);
    expect(changes).toBeGreaterThan(1);
    // Cut once, not once per subscription on it.
    expect(server.logs.filter((line) => line.includes('is not reading'))).toHaveLength(1);

    const received = await reading.until(changes);
    expect(received.map((r) => r.planSectionChanged.text.split(' ')[0])).toEqual(
      Array.from({ length: changes }, (_, i) => String(i)),
    );
    sockets[0].resume();
    await eventually(() => stalledFeeds.every((feed) => feed.errors.length > 0));
    expect(stalledFeeds[0].errors[0]).toMatchObject({ code: 1006 });
  });
});
