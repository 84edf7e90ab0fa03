import type { EventHub } from './hub';
import type { CareEvent } from './events';

/**
 * The hub's events as an async iterator for one subscription, filtered by `accept`. Events queue
 * while the consumer is busy; `return()` (the client unsubscribed or left) stops listening.
 */
export function eventStream(hub: EventHub, accept: (event: CareEvent) => boolean): AsyncIterableIterator<CareEvent> {
  const queue: CareEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const stop = hub.listen((event) => {
    if (done || !accept(event)) return;
    queue.push(event);
    wake?.();
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
