import { describe, expect, it } from 'vitest';
import { SubscribedClinicians } from '../src/graphql/liveFeeds';

/**
 * The index of subscribers' patients when a read of them fails, with the database played by this
 * test: the read is tried again, later each time, so that one failure does not leave the instance
 * working for every event on that clinician's account (issue 19). Over a real database, the index
 * is test/live-index.test.ts.
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
