import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import type { CareEvent } from '../events/events';
import type { EventHub } from '../events/hub';
import { eventStream } from '../events/stream';
import type { RequestScope } from './scope';

/**
 * What a subscription delivers: events of one type (for one patient, or all of the caller's),
 * each loaded afresh and audited, and only while the caller is on the patient's care team. Leaving
 * the team ends a one-patient subscription and silences that patient in an all-patients one.
 *
 * The hub hands the same event object to every subscription on this instance, so the care team and
 * the item are read once per event, not once per subscriber (`oncePerEvent`): a thousand open
 * subscriptions cost two queries per event, not two thousand. The item lives in an EntityManager
 * fork of its own and is shared, read-only, by the subscriptions that deliver it.
 *
 * A hand-written iterator rather than an async generator: a generator waiting for its next event
 * cannot be returned until that event comes, so an unsubscribed client would stay registered with
 * the hub for as long as its patient is quiet.
 */
export function liveForCareTeam<T extends object>(
  scope: RequestScope,
  access: CareTeamAccess,
  hub: EventHub,
  options: {
    type: CareEvent['type'];
    patientId?: string;
    /** Narrows the events further (to one plan, say). */
    matches?: (event: CareEvent) => boolean;
    load: (em: EntityManager, event: CareEvent) => Promise<T | null>;
    audit: (item: T) => void;
  },
): AsyncIterableIterator<T> {
  const { type, patientId, matches } = options;
  const stream = eventStream(hub, (e) => e.type === type && (patientId === undefined || e.patientId === patientId) && (matches?.(e) ?? true));
  const end = async (): Promise<IteratorResult<T>> => {
    await stream.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      for (;;) {
        const { done, value: event } = await stream.next();
        if (done) return { done: true, value: undefined };
        // A subscription lives long; its identity map must not grow with every event.
        scope.em.clear();
        // Both reads start together; the item is only handed out once membership is confirmed.
        const loading = oncePerEvent(event, 'item', () => options.load(scope.em.fork(), event));
        const team = await oncePerEvent(event, 'careTeam', () => access.careTeamIds(scope.em.fork(), event.patientId));
        if (!access.isIn(team)) {
          if (patientId !== undefined) return end();
          continue;
        }
        const item = await loading;
        if (item === null) continue;
        options.audit(item);
        return { done: false, value: item };
      }
    },
    return: end,
    async throw(error) {
      await end();
      throw error;
    },
  };
}

const perEvent = new WeakMap<CareEvent, Map<string, Promise<unknown>>>();

/** `work` done once for an event however many subscriptions ask; forgotten with the event. */
function oncePerEvent<T>(event: CareEvent, key: string, work: () => Promise<T>): Promise<T> {
  let results = perEvent.get(event);
  if (!results) perEvent.set(event, (results = new Map()));
  let result = results.get(key) as Promise<T> | undefined;
  if (!result) results.set(key, (result = work()));
  return result;
}
