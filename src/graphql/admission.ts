import type { LoadSettings } from '../config/config';
import { serviceUnavailable } from '../errors';
import type { NetworkDelivery } from './networkDelivery';

/** Seconds a refused client is told to wait (`Retry-After`): about how long the queue takes to turn over. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * How many GraphQL requests run at once on this instance. Past `maxConcurrentRequests` a request
 * waits its turn, at most `maxQueueWaitMs` and behind at most `maxQueuedRequests` others; past that
 * it is refused at once with SERVICE_UNAVAILABLE, having done nothing. Without a bound, a burst of
 * writes queued hundreds deep for the database pool, and every answer (and, before alerts had their
 * own connections, every alert) waited behind all of them.
 *
 * Writes are held to delivery too: while any instance's subscribers (`delivery`: this instance's and
 * what the others reported, `networkDelivery`) wait for events longer than its `maxDeliveryDelayMs`,
 * or for its `maxDeliveryBacklog` events, a mutation is refused the same way before it does anything
 * (`refuseWriteWhileBehind`). Counting requests alone let delivery fall seconds behind writes that
 * were all admitted, each raising more to deliver (BENCHMARKS.md, issue 19).
 */
export class Admission {
  private running = 0;
  private readonly waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly limits: Pick<
      LoadSettings,
      'maxConcurrentRequests' | 'maxQueuedRequests' | 'maxQueueWaitMs'
    >,
    private readonly delivery: Pick<NetworkDelivery, 'behind'>,
  ) {}

  /** Whether delivery is behind the writes: more events waiting, or waiting longer, than allowed. */
  get deliveryBehind(): boolean {
    return this.delivery.behind();
  }

  /** Throws SERVICE_UNAVAILABLE while delivery is behind: called for a write before it starts. */
  refuseWriteWhileBehind(): void {
    if (this.deliveryBehind)
      throw serviceUnavailable(
        `Alerts are being delivered behind the writes; this write was not done; send it again in ${RETRY_AFTER_SECONDS} s`,
      );
  }

  /** Runs `work` in its turn; rejects with SERVICE_UNAVAILABLE, without running it, when there is none. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.running < this.limits.maxConcurrentRequests) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.limits.maxQueuedRequests) return Promise.reject(atCapacity());
    return new Promise((resolve, reject) => {
      const entry = {
        admit: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1);
          reject(atCapacity());
        }, this.limits.maxQueueWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  private leave(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next in line.
    if (next) next.admit();
    else this.running--;
  }
}

const atCapacity = () =>
  serviceUnavailable(
    `The server is at capacity and did nothing with this request; send it again in ${RETRY_AFTER_SECONDS} s`,
  );
