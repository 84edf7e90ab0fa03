import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyedSerial, inOrder } from '../../src/events/inOrder';

/** A promise with its resolve and reject at hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});
/** Lets a macrotask pass, so that any unhandled rejection has been reported. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedSerial', () => {
  it('runs the jobs under one key one at a time, in the order given', async () => {
    const serial = new KeyedSerial();
    const log: string[] = [];
    const first = deferred();
    const a = serial.run('k', async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
    });
    const b = serial.run('k', async () => void log.push('b'));
    await settle();
    expect(log).toEqual(['a start']);
    first.resolve();
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('does not hold up other keys', async () => {
    const serial = new KeyedSerial();
    const blocked = deferred();
    const a = serial.run('a', () => blocked.promise);
    await expect(serial.run('b', async () => 'b done')).resolves.toBe('b done');
    blocked.resolve();
    await a;
  });

  it('a failing job fails only itself: the later jobs under its key run, in order, and nothing is unhandled', async () => {
    const serial = new KeyedSerial();
    const ran: number[] = [];
    const jobs = [0, 1, 2, 3, 4].map((n) =>
      serial.run('k', async () => {
        ran.push(n);
        if (n % 2 === 1) throw new Error(`job ${n} failed`);
        return n;
      }),
    );
    const outcomes = await Promise.allSettled(jobs);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'job 1 failed' });
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('a job that throws before its first await is a failed job like any other', async () => {
    const serial = new KeyedSerial();
    const failing = serial.run('k', () => {
      throw new Error('synchronous');
    });
    const next = serial.run('k', async () => 'next');
    await expect(failing).rejects.toThrow('synchronous');
    await expect(next).resolves.toBe('next');
  });

  it('forgets a key once its jobs have settled', async () => {
    const serial = new KeyedSerial<object>();
    const key = {};
    const pending = serial.run(key, async () => undefined);
    expect(serial.keys).toBe(1);
    await pending;
    await serial.run(key, () => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(serial.keys).toBe(0);
  });
});

describe('inOrder (fire and forget)', () => {
  it('a rejecting job skips nothing after it and raises no unhandled rejection', async () => {
    const serve = inOrder();
    const ran: string[] = [];
    const done = deferred();
    serve('k', async () => {
      ran.push('first');
      throw new Error('first failed');
    });
    serve('k', async () => {
      ran.push('second');
      await Promise.reject(new Error('second failed'));
    });
    serve('k', async () => {
      ran.push('third');
      done.resolve();
    });
    await done.promise;
    await settle();
    expect(ran).toEqual(['first', 'second', 'third']);
    expect(unhandled).toEqual([]);
  });
});
