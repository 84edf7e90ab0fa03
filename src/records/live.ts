import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import type { CareTeamDirectory } from '../auth/careTeams';
import type { CareEvent } from '../events/events';
import type { EventHub } from '../events/hub';
import { eventStream } from '../events/stream';
import type { RequestScope } from './scope';

/** Where live events come from, and who may receive them. */
export interface LiveSources {
  hub: EventHub;
  careTeams: CareTeamDirectory;
}

/**
 * What a subscription delivers: events of one type (for one patient, or all of the caller's),
 * each loaded afresh and audited, and only while the caller is on the patient's care team. Leaving
 * the team ends a one-patient subscription and silences that patient in an all-patients one.
 *
 * The hub hands the same event object to every subscription on this instance, so the item is read
 * once per event, not once per subscriber (`oncePerEvent`), and the care team comes from memory:
 * a thousand open subscriptions cost one query per event, not two thousand. The item lives in an
 * EntityManager fork of its own and is shared, read-only, by the subscriptions that deliver it.
 *
 * A hand-written iterator rather than an async generator: a generator waiting for its next event
 * cannot be returned until that event comes, so an unsubscribed client would stay registered with
 * the hub for as long as its patient is quiet.
 */
export function liveForCareTeam<T extends object>(
  scope: RequestScope,
  access: CareTeamAccess,
  { hub, careTeams }: LiveSources,
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
  // The item is read while the team is looked up, once per event; it is only handed out to members.
  const prepared = (event: CareEvent) => oncePerEvent(event, () => Promise.all([careTeams.members(event.patientId), options.load(scope.em.fork(), event)]));
  const stream = eventStream(hub, (e) => e.type === type && (patientId === undefined || e.patientId === patientId) && (matches?.(e) ?? true), prepared);
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
        const [team, item] = await prepared(event);
        if (!access.isIn(team)) {
          if (patientId === undefined) continue;
          // The team in memory may predate the caller's joining (their subscription was checked
          // against the database): only the database ends a subscription.
          if (!access.isIn(await careTeams.refresh(event.patientId))) return end();
        }
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

const perEvent = new WeakMap<CareEvent, Promise<unknown>>();

/**
 * `work` done once for an event however many subscriptions ask; forgotten with the event. An event
 * reaches only subscriptions of its own type, which all read it alike.
 */
function oncePerEvent<T>(event: CareEvent, work: () => Promise<T>): Promise<T> {
  let result = perEvent.get(event) as Promise<T> | undefined;
  if (!result) perEvent.set(event, (result = work()));
  return result;
}
