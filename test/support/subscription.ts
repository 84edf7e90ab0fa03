import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';

/** A live subscription over graphql-ws that collects what arrives, with a deferred per arrival. */
export interface Collector<T> {
  received: T[];
  errors: unknown[];
  /** Resolves once at least `count` results have arrived. */
  until(count: number): Promise<T[]>;
  /** Unsubscribes. */
  stop(): void;
}

export function collect<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Collector<T> {
  const received: T[] = [];
  const errors: unknown[] = [];
  const waiters: { count: number; resolve: (value: T[]) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (received.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve([...received]);
      }
    }
  };
  const stop = client.subscribe<T>(
    { query: print(document), variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) received.push(result.data as T);
        check();
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  return {
    received,
    errors,
    until: (count) => new Promise((resolve) => (waiters.push({ count, resolve }), check())),
    stop,
  };
}

/**
 * A ceiling for waits on events, far above what they take on an idle machine: on two cores shared
 * with another test run, a wait of a few hundred milliseconds can take seconds.
 */
export const PATIENCE_MS = 20_000;

/** Resolves once `condition` holds, checking at short intervals; fails after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = PATIENCE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
