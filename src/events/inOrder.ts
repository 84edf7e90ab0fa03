import { Mutex } from 'async-mutex';

/**
 * Keyed serial work: jobs under one key run one at a time, in the order given, each starting once
 * the previous one under that key has settled; jobs under different keys do not wait for each other.
 * Each key holds one `async-mutex` Mutex while jobs are queued under it and is forgotten once idle.
 * A job that fails rejects only its own promise: the jobs after it still run.
 */
export class KeyedSerial<K = string> {
  private readonly queues = new Map<K, { mutex: Mutex; jobs: number }>();

  /** Runs `work` after the jobs already given under `key`; settles as `work` does. */
  async run<T>(key: K, work: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { mutex: new Mutex(), jobs: 0 }));
    queue.jobs++;
    try {
      return await queue.mutex.runExclusive(work);
    } finally {
      if (--queue.jobs === 0) this.queues.delete(key);
    }
  }

  /** How many keys have work queued or running. */
  get keys(): number {
    return this.queues.size;
  }
}

/**
 * Fire-and-forget keyed serial work, for callers that handle their own errors: a job's rejection is
 * dropped here (it fails that job only and is never unhandled).
 */
export function inOrder(): (key: string, work: () => Promise<void>) => void {
  const serial = new KeyedSerial();
  return (key, work) => {
    serial.run(key, work).catch(() => undefined);
  };
}
