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
  const waits: number[] = [];
  const subscribed = new SubscribedClinicians(
    database.patientsOf,
    (error, retryInMs) => failures.push({ message: (error as Error).message, retryInMs }),
    (failuresInARow) => (waits.push(failuresInARow), 0),
  );
  const on = (patientId: string) => [...subscribed.on(patientId)];
  /** Lets the read's answer (and a retry's zero-delay timer) run. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { database, failures, waits, subscribed, on, settle };
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
});

describe("the reads of all-patients subscribers' patients", () => {
  it("take lesser turns, at a subscription's start and after a reconnect, while a score alert is read at once", async () => {
    const reconnects: (() => void)[] = [];
    const listeners: ((event: CareEvent) => void)[] = [];
    const hub = {
      listen: (listener: (event: CareEvent) => void) => (listeners.push(listener), () => undefined),
      onReconnect: (listener: () => void) => (reconnects.push(listener), () => undefined),
    } as unknown as EventHub;
    const database = reads();
    let reading = 0;
    let most = 0;
    const careTeams = {
      members: async () => new Set<string>(),
      refresh: async () => new Set<string>(),
      patientsOf: async (clinicianId: string) => {
        most = Math.max(most, ++reading);
        try {
          return await database.patientsOf(clinicianId);
        } finally {
          reading--;
        }
      },
    } satisfies CareTeamDirectory;
    const feeds = liveFeeds(hub, careTeams, 2, pino({ level: 'silent' }));
    const loaded: string[] = [];
    for (let n = 0; n < 6; n++) {
      feeds.add({
        type: 'scoreAlert',
        clinicianId: `c${n}`,
        matches: () => true,
        load: async (event) => (loaded.push(event.id), null),
        offer: () => undefined,
        fail: () => undefined,
      });
    }
    const answerAll = async (from: number, to: number) => {
      for (let n = from; n < to; n++) {
        await database.asked(n + 1);
        expect(reading).toBeLessThanOrEqual(2);
        // Every lesser turn is held by a read: an alert is read all the same.
        const id = `alert-${n}`;
        for (const listener of listeners) listener({ type: 'scoreAlert', id, patientId: 'p1' } as CareEvent);
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(loaded).toContain(id);
        database.pending[n].resolve([]);
      }
    };
    await answerAll(0, 6);
    for (const reconnect of reconnects) reconnect();
    await answerAll(6, 12);
    expect(most).toBe(2);
  });
});
