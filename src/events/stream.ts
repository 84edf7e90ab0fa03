import type { EventHub } from './hub';
import type { CareEvent } from './events';

/**
 * The hub's events as an async iterator for one subscription, filtered by `accept`. Events queue
 * while the consumer is busy; `return()` (the client unsubscribed or left) stops listening.
 *
 * `ready`, when given, is work the consumer will wait on before it can use an event, usually shared
 * by every subscription the event reaches: the consumer is woken when it is done. Woken at once, a
 * thousand consumers would each run up to that wait first, and the work's own I/O would wait behind
 * them. Consumers waiting on the same work are woken in slices (`wakeInSlices`).
 */
export function eventStream(hub: EventHub, accept: (event: CareEvent) => boolean, ready?: (event: CareEvent) => Promise<unknown>): AsyncIterableIterator<CareEvent> {
  const queue: CareEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const stop = hub.listen((event) => {
    if (done || !accept(event)) return;
    queue.push(event);
    if (ready) wakeInSlices(ready(event), () => wake?.());
    else wake?.();
  });
  const finish = async (): Promise<IteratorResult<CareEvent>> => {
    done = true;
    stop();
    wake?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      if (done) return { done: true, value: undefined };
      return { done: false, value: queue.shift()! };
    },
    return: finish,
    throw: async (error) => {
      await finish();
      throw error;
    },
  };
}

/** Consumers of one piece of work woken in one turn of the event loop. */
const WAKE_SLICE = 100;

const waiting = new WeakMap<Promise<unknown>, (() => void)[]>();

/**
 * Wakes the consumers waiting on `work`, once it is done, a slice at a time with a turn of the
 * event loop between slices. The first slice's I/O (its audit insert, its sends) then proceeds
 * while the next slices are still being prepared, instead of after all of them: a thousand
 * subscribers of one alert start receiving it sooner, and the last no later.
 */
function wakeInSlices(work: Promise<unknown>, wake: () => void): void {
  let consumers = waiting.get(work);
  if (consumers) {
    consumers.push(wake);
    return;
  }
  waiting.set(work, (consumers = [wake]));
  const all = consumers;
  const slice = (from: number) => {
    for (const consumer of all.slice(from, from + WAKE_SLICE)) consumer();
    if (from + WAKE_SLICE < all.length) setImmediate(() => slice(from + WAKE_SLICE));
    // Anyone still to come waits on the finished work afresh.
    else waiting.delete(work);
  };
  const start = () => slice(0);
  void work.then(start, start);
}
