import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import type { CareTeamDirectory } from '../auth/careTeams';
import type { CareEvent } from '../events/events';
import type { EventHub } from '../events/hub';
import { inOrder } from '../events/inOrder';
import type { AuditEntry, RequestScope } from './scope';

/**
 * The instance's live subscriptions, fed from one listener on the hub. For each event, the item is
 * read and the patient's care team looked up once, then every subscription the event is for is
 * offered the item in one pass: members of the team are audited and handed it, the others are not.
 *
 * One pass, not one waiting consumer per subscription: a thousand clinicians on a patient's team
 * then cost a thousand function calls per alert, not a thousand chains of promises woken one by one
 * (each several microseconds under Node 20's async hooks, and the last subscriber waits for all).
 */
export interface LiveFeeds {
  /** Subscriptions started and not yet ended on this instance. */
  readonly count: number;
  /** Starts delivering `feed`'s items, in the order the hub delivers their events. */
  add(feed: FeedSubscription): void;
  delete(feed: FeedSubscription): void;
}

/** What the hub and its feeds need of one subscription. */
interface FeedSubscription {
  readonly type: CareEvent['type'];
  readonly patientId?: string;
  matches(event: CareEvent): boolean;
  /** Reads the event's item; the same for every subscription the event is for. */
  load(event: CareEvent): Promise<object | null>;
  /**
   * The event's item and its patient's team as of now. Returns a promise only when it must consult
   * the database first; the feed waits for it before offering anything later.
   */
  offer(team: ReadonlySet<string>, item: object | null): Promise<void> | void;
  fail(error: unknown): void;
}

export function liveFeeds(hub: EventHub, careTeams: CareTeamDirectory): LiveFeeds {
  /** By event type and patient id; `''` for the subscriptions to all of a caller's patients. */
  const feeds = new Map<string, Set<FeedSubscription>>();
  /**
   * Events offered one at a time per event type: a subscription receives one type, in the order the
   * hub delivered it; the next event's item is read meanwhile but offered only after this one.
   */
  const offerInOrder = inOrder();
  let count = 0;
  const key = (type: string, patientId = '') => `${type}\n${patientId}`;

  hub.listen((event) => {
    const candidates = [...(feeds.get(key(event.type, event.patientId)) ?? []), ...(feeds.get(key(event.type)) ?? [])].filter((feed) => feed.matches(event));
    if (candidates.length === 0) return;
    const prepared = Promise.all([careTeams.members(event.patientId), candidates[0].load(event)]);
    // Awaited only once the previous event is offered; a failure before then is not unhandled.
    prepared.catch(() => undefined);
    offerInOrder(event.type, async () => {
      let team: ReadonlySet<string>, item: object | null;
      try {
        [team, item] = await prepared;
      } catch (error) {
        for (const feed of candidates) feed.fail(error);
        return;
      }
      const consulting: Promise<void>[] = [];
      for (const feed of candidates) {
        try {
          const pending = feed.offer(team, item);
          if (pending) consulting.push(pending);
        } catch (error) {
          // One subscription's failure ends that subscription, not the delivery to the others.
          feed.fail(error);
        }
      }
      if (consulting.length > 0) await Promise.allSettled(consulting);
    });
  });

  return {
    get count() {
      return count;
    },
    add(feed) {
      const k = key(feed.type, feed.patientId);
      let set = feeds.get(k);
      if (!set) feeds.set(k, (set = new Set()));
      if (!set.has(feed)) count++;
      set.add(feed);
    },
    delete(feed) {
      const k = key(feed.type, feed.patientId);
      const set = feeds.get(k);
      if (!set?.delete(feed)) return;
      count--;
      if (set.size === 0) feeds.delete(k);
    },
  };
}

/** Where live events come from, and who may receive them. */
export interface LiveSources {
  feeds: LiveFeeds;
  careTeams: CareTeamDirectory;
}

/**
 * One subscription's live items: its events (for one patient, or all of the caller's), each read
 * once for every subscription it reaches, offered only while the caller is on the patient's care
 * team, and audited as read by the caller, per item, by whoever sends it. Leaving the team ends a one-patient
 * subscription and silences that patient in an all-patients one.
 *
 * Items are pushed to the function given to `start`, not pulled: whoever sends them (one execution
 * per group of alike subscriptions, src/graphql/sharedExecution.ts) gathers an event's recipients in
 * the one pass. As the async iterable that graphql requires of a subscription's source, a feed yields
 * nothing and is done when the subscription ends: when the client unsubscribes (`return`), or the
 * caller left a one-patient subscription's care team.
 */
export class LiveFeed<T extends object> implements AsyncIterableIterator<never>, FeedSubscription {
  readonly type: CareEvent['type'];
  readonly patientId?: string;
  private deliver?: (item: T, audit: AuditEntry[]) => void;
  private ended = false;
  private failure?: { error: unknown };
  private wake?: () => void;

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly sources: LiveSources,
    private readonly options: {
      type: CareEvent['type'];
      patientId?: string;
      /** Narrows the events further (to one plan, say). */
      matches?: (event: CareEvent) => boolean;
      load: (em: EntityManager, event: CareEvent) => Promise<T | null>;
      /** What receiving the item is audited as, for this subscription's caller. */
      audit: (item: T) => AuditEntry[];
    },
  ) {
    this.type = options.type;
    this.patientId = options.patientId;
  }

  /** Whether items still go to this subscription: false once it ended. */
  get open(): boolean {
    return !this.ended;
  }

  /**
   * Hands each item the caller may receive to `deliver`, in order, until the feed ends, with the
   * audit entries of this caller's receiving that item: stored by whoever sends it, before it leaves,
   * and only for this item (other items may be handed while it is being sent).
   */
  start(deliver: (item: T, audit: AuditEntry[]) => void): void {
    if (this.deliver) throw new Error('A live feed is started once');
    this.deliver = deliver;
    if (!this.ended) this.sources.feeds.add(this);
  }

  matches(event: CareEvent): boolean {
    return event.type === this.type && (this.patientId === undefined || event.patientId === this.patientId) && (this.options.matches?.(event) ?? true);
  }

  load(event: CareEvent): Promise<T | null> {
    return this.options.load(this.scope.em.fork(), event);
  }

  offer(team: ReadonlySet<string>, item: T | null): Promise<void> | void {
    if (this.ended) return;
    if (this.access.isIn(team)) return this.hand(item);
    if (this.patientId === undefined) return;
    // The team in memory may predate the caller's joining (their subscription was checked against
    // the database): only the database ends a subscription.
    return this.sources.careTeams.refresh(this.patientId).then(
      (current) => (this.access.isIn(current) ? this.hand(item) : this.end()),
      (error) => this.fail(error),
    );
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  private hand(item: T | null): void {
    if (item === null || this.ended) return;
    this.deliver!(item, this.options.audit(item));
  }

  private end(): void {
    this.ended = true;
    this.sources.feeds.delete(this);
    this.wake?.();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next(): Promise<IteratorResult<never>> {
    while (!this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure.error;
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<never>> {
    this.end();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<never>> {
    this.end();
    throw error;
  }
}
