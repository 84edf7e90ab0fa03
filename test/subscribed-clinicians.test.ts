import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CareTeamDirectory } from '../src/auth/careTeams';
import type { CareEvent } from '../src/events/events';
import type { EventHub } from '../src/events/hub';
import { liveFeeds, SubscribedClinicians } from '../src/graphql/liveFeeds';

/**
 * The reads behind the index of all-patients subscribers' patients, with the database played by this
 * test (issue 19). A failed read is tried again, later each time, so that one failure does not leave
 * every event on the instance for that clinician; and the reads take lesser turns, so that after a
 * reconnect they cannot fill every delivery connection ahead of the alerts. Over a real database,
 * the index is test/live-index.test.ts.
 */

/** Reads of clinicians' patients, answered or failed by the test; `asked` waits for the next one. */
function reads() {
  const pending: { clinicianId: string; resolve: (ids: string[]) => void; reject: (e: Error) => void }[] = [];
  let waiter: (() => void) | undefined;
  return {
    pending,
    patientsOf: (clinicianId: string) =>
      new Promise<string[]>((resolve, reject) => {
        pending.push({ clinicianId, resolve, reject });
        waiter?.();
      }),
    async asked(count: number) {
      while (pending.length < count) await new Promise<void>((resolve) => (waiter = resolve));
    },
  };
}

function index() {
  const database = reads();
  const failures: { message: string; retryInMs: number }[] = [];
  let failed: (() => void) | undefined;
  const waits: number[] = [];
  const subscribed = new SubscribedClinicians(
    database.patientsOf,
    (error, retryInMs) => {
      failures.push({ message: (error as Error).message, retryInMs });
      failed?.();
    },
    (failuresInARow) => (waits.push(failuresInARow), 0),
  );
  const on = (patientId: string) => [...subscribed.on(patientId)];
  /** Lets the read's answer (and a retry's zero-delay timer) run. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  /** Resolves once a failure is reported: its retry is then waiting, and has not yet run. */
  const nextFailure = () => new Promise<void>((resolve) => (failed = resolve));
  return { database, failures, waits, subscribed, on, settle, nextFailure };
}

describe("an all-patients subscriber's patients, when reading them fails", () => {
  it('are read again after a failure, and once read the clinician is offered only their own patients', async () => {
    const { database, failures, subscribed, on, settle } = index();
    subscribed.hold('c1');
    await database.asked(1);
    database.pending[0].reject(new Error('Knex: Timeout acquiring a connection'));
    // Until a read answers, every event may be for c1.
    expect(on('p1')).toEqual(['c1']);
    expect(on('p2')).toEqual(['c1']);
    await database.asked(2);
    expect(failures).toEqual([{ message: 'Knex: Timeout acquiring a connection', retryInMs: 0 }]);
    expect(database.pending[1].clinicianId).toBe('c1');
    database.pending[1].resolve(['p1']);
    await settle();
    expect(on('p1')).toEqual(['c1']);
    expect(on('p2')).toEqual([]);
  });

  it('waits longer after each failure in a row, and counts again from one once a read has answered', async () => {
    const { database, waits, subscribed, settle } = index();
    subscribed.hold('c1');
    for (let n = 0; n < 3; n++) {
      await database.asked(n + 1);
      database.pending[n].reject(new Error('connection lost'));
    }
    await database.asked(4);
    database.pending[3].resolve([]);
    await settle();
    // A reconnect reads again; that read's failure is the first in a row.
    subscribed.reload();
    await database.asked(5);
    database.pending[4].reject(new Error('connection lost'));
    await database.asked(6);
    expect(waits).toEqual([1, 2, 3, 1]);
  });

  it('are not read again for a clinician whose subscriptions have ended', async () => {
    const { database, failures, subscribed, on, settle } = index();
    subscribed.hold('c1');
    await database.asked(1);
    subscribed.release('c1');
    database.pending[0].reject(new Error('connection lost'));
    await settle();
    await settle();
    expect(failures).toEqual([]);
    expect(database.pending).toHaveLength(1);
    expect(on('p1')).toEqual([]);
  });

  it('are read once after a reconnect, not also by the retry of a read the reconnect replaced', async () => {
    const { database, subscribed, on, settle } = index();
    subscribed.hold('c1');
    await database.asked(1);
    subscribed.reload();
    await database.asked(2);
    // The replaced read fails after the reconnect's read began: no retry of it.
    database.pending[0].reject(new Error('connection lost'));
    database.pending[1].resolve(['p2']);
    await settle();
    await settle();
    expect(database.pending).toHaveLength(2);
    expect(on('p2')).toEqual(['c1']);
    expect(on('p1')).toEqual([]);
  });

  it('are not read by a waiting retry once the subscriptions have ended, or once a reconnect has read them', async () => {
    const { database, subscribed, on, settle, nextFailure } = index();
    subscribed.hold('c1');
    await database.asked(1);
    let failure = nextFailure();
    database.pending[0].reject(new Error('connection lost'));
    await failure;
    subscribed.release('c1');
    await settle();
    await settle();
    expect(database.pending).toHaveLength(1);
    expect(on('p1')).toEqual([]);

    subscribed.hold('c1');
    await database.asked(2);
    failure = nextFailure();
    database.pending[1].reject(new Error('connection lost'));
    await failure;
    subscribed.reload();
    await database.asked(3);
    await settle();
    await settle();
    expect(database.pending).toHaveLength(3);
    database.pending[2].resolve(['p1']);
    await settle();
    expect(on('p1')).toEqual(['c1']);
    expect(on('p2')).toEqual([]);
  });
});

/** Feeds over a hub and a care-team directory played by the test, `lesserAtOnce` turns. */
function feedsWith(lesserAtOnce: number, log: string[] = []) {
  const reconnects: (() => void)[] = [];
  const listeners: ((event: CareEvent) => void)[] = [];
  const hub = {
    listen: (listener: (event: CareEvent) => void) => (listeners.push(listener), () => undefined),
    onReconnect: (listener: () => void) => (reconnects.push(listener), () => undefined),
  } as unknown as EventHub;
  const database = reads();
  const at = { reading: 0, most: 0 };
  const careTeams = {
    members: async () => new Set<string>(),
    refresh: async () => new Set<string>(),
    patientsOf: async (clinicianId: string) => {
      at.most = Math.max(at.most, ++at.reading);
      try {
        return await database.patientsOf(clinicianId);
      } finally {
        at.reading--;
      }
    },
  } satisfies CareTeamDirectory;
  const logger = pino({ level: 'warn', base: undefined }, { write: (line: string) => log.push(line) });
  const feeds = liveFeeds(hub, careTeams, lesserAtOnce, logger);
  /** The events whose items were read, in order. */
  const loaded: string[] = [];
  const subscribe = (clinicianId: string, type: CareEvent['type'] = 'scoreAlert') => {
    const feed = {
      type,
      clinicianId,
      matches: () => true,
      load: async (event: CareEvent) => (loaded.push(event.id), null),
      offer: () => undefined,
      fail: () => undefined,
    };
    feeds.add(feed);
    return () => feeds.delete(feed);
  };
  return {
    database,
    at,
    loaded,
    subscribe,
    hear: (event: CareEvent) => listeners.forEach((listener) => listener(event)),
    reconnect: () => reconnects.forEach((reconnect) => reconnect()),
    settle: () => new Promise((resolve) => setTimeout(resolve, 0)),
  };
}

describe("the reads of all-patients subscribers' patients", () => {
  it("take lesser turns, at a subscription's start and after a reconnect, while a score alert is read at once", async () => {
    const { database, at, loaded, subscribe, hear, reconnect, settle } = feedsWith(2);
    for (let n = 0; n < 6; n++) subscribe(`c${n}`);
    const answerAll = async (from: number, to: number) => {
      for (let n = from; n < to; n++) {
        await database.asked(n + 1);
        expect(at.reading).toBeLessThanOrEqual(2);
        // Every lesser turn is held by a read: an alert is read all the same.
        const id = `alert-${n}`;
        hear({ type: 'scoreAlert', id, patientId: 'p1' });
        await settle();
        expect(loaded).toContain(id);
        database.pending[n].resolve([]);
      }
    };
    await answerAll(0, 6);
    reconnect();
    await answerAll(6, 12);
    expect(at.most).toBe(2);
  });

  it('are not sent when replaced or no longer needed while they waited for a turn', async () => {
    const { database, subscribe, reconnect, settle } = feedsWith(1);
    subscribe('c0');
    const unsubscribe = subscribe('c1');
    subscribe('c2');
    await database.asked(1);
    // c1's read waits for the one turn, then its subscription ends; a reconnect replaces c2's.
    unsubscribe();
    reconnect();
    database.pending[0].resolve([]);
    for (let n = 1; n < 3; n++) {
      await database.asked(n + 1);
      database.pending[n].resolve([]);
    }
    await settle();
    await settle();
    // c0's first read, then the reconnect's reads of c0 and c2: never c1's, nor c2's first.
    expect(database.pending.map((read) => read.clinicianId).sort()).toEqual(['c0', 'c0', 'c2']);
  });

  it('are read again, and the failure logged, whatever a failed read rejected with', async () => {
    const log: string[] = [];
    const { database, subscribe } = feedsWith(1, log);
    subscribe('c0');
    await database.asked(1);
    // Not an Error: a driver's or a library's rejection need not be.
    database.pending[0].reject(undefined as unknown as Error);
    await database.asked(2);
    expect(log.map((line) => JSON.parse(line) as { msg: string; err: unknown })).toEqual([
      expect.objectContaining({
        msg: "reading a subscriber's patients failed; read again later",
        err: { type: 'undefined' },
      }),
    ]);
  });

  it('come before lesser events waiting for a turn', async () => {
    const { database, loaded, subscribe, hear, settle } = feedsWith(1);
    subscribe('c0', 'measureRecorded');
    await database.asked(1);
    // c0's read holds the turn; a measure for c0 (any patient's, until the read answers) waits.
    hear({ type: 'measureRecorded', id: 'measure-1', patientId: 'p1' });
    subscribe('c1');
    database.pending[0].resolve(['p1']);
    await database.asked(2);
    await settle();
    expect(database.pending[1].clinicianId).toBe('c1');
    expect(loaded).toEqual([]);
    database.pending[1].resolve([]);
    await settle();
    expect(loaded).toEqual(['measure-1']);
  });
});
