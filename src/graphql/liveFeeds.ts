import { Semaphore } from 'async-mutex';
import type { CareTeamDirectory } from '../auth/careTeams';
import type { CareEvent } from '../events/events';
import type { EventHub } from '../events/hub';
import { inOrder } from '../events/inOrder';
import type { Logger } from '../logger';
import type { LiveAdmission, LiveSubscription } from '../records/liveSubscription';
import type { AuditEntry } from '../records/scope';

/**
 * The instance's live subscriptions, fed from one listener on the hub. An event is for the
 * subscriptions to its patient and the all-patients subscriptions of the clinicians this instance
 * knows to be on that patient's team (`SubscribedClinicians`); found by patient, not by a scan of
 * every subscription. An event that is for none of them costs nothing here: no read of its item or
 * team, so another instance adds capacity instead of repeating every instance's work. Otherwise the
 * item is read and the patient's care team looked up once, then every subscription the event is for
 * is offered the item in one pass: members of the team are handed it, the others are not.
 *
 * One pass, not one waiting consumer per subscription: a thousand clinicians on a patient's team
 * then cost a thousand function calls per alert, not a thousand chains of promises woken one by one
 * (the last subscriber would wait for all; BENCHMARKS.md, alert fan-out).
 *
 * Order is kept per patient: a subscription receives one patient's events in the order the hub
 * delivered them, while other patients' events go out beside them rather than behind them. Score
 * alerts come first: every other kind of event (a measure, a plan's change), and every read of a
 * subscriber's patients, is worked on by at most `lesserAtOnce` at a time, so they cannot hold every
 * delivery connection while an alert waits.
 */
export interface LiveFeeds {
  /** Subscriptions started and not yet ended on this instance. */
  readonly count: number;
  /** What has reached this instance for its subscribers and is not yet sent to them. */
  readonly backlog: DeliveryBacklog;
  /** Starts delivering `feed`'s items, in each patient's order of the hub's events. */
  add(feed: FeedSubscription): void;
  delete(feed: FeedSubscription): void;
}

/** One event's item as it is handed to its recipients. */
interface Handing {
  /** Items of one order are sent in the order they are handed: the event's patient. */
  order: string;
  /** What the recipients are sent, each settling once its copy has left (or failed). */
  sending: Promise<void>[];
}

/** Events heard for this instance's subscribers whose items are not yet sent to every recipient. */
export interface DeliveryBacklog {
  readonly events: number;
  /** How long the oldest of them has waited, in milliseconds; 0 when there is none. */
  oldestWaitMs(): number;
}

/** What the hub and its feeds need of one subscription. */
interface FeedSubscription {
  readonly type: CareEvent['type'];
  readonly patientId?: string;
  /** Whose subscription it is. */
  readonly clinicianId: string;
  matches(event: CareEvent): boolean;
  /** Reads the event's item; the same for every subscription the event is for. */
  load(event: CareEvent): Promise<object | null>;
  /**
   * The event's item and its patient's team as of now. Returns a promise only when it must consult
   * the database first; the feed waits for it before offering anything later.
   */
  offer(team: ReadonlySet<string>, item: object | null, handing: Handing): Promise<void> | void;
  fail(error: unknown): void;
}

export function liveFeeds(
  hub: EventHub,
  careTeams: CareTeamDirectory,
  /**
   * Lesser work done at once (events other than score alerts, reads of subscribers' patients): fewer
   * than the delivery connections.
   */
  lesserAtOnce: number,
  logger: Logger,
): LiveFeeds {
  /** One-patient subscriptions by event type and patient id; all-patients ones by type and clinician id. */
  const byPatient = new Map<string, Set<FeedSubscription>>();
  const byClinician = new Map<string, Set<FeedSubscription>>();
  const lesser = new Semaphore(lesserAtOnce);
  // Reading a subscriber's patients keeps their teams too: their first events then cost no team read.
  // Those reads take lesser turns: after a reconnect every subscriber's are read at once, and they
  // would otherwise fill every delivery connection while the alerts caught up from the gap wait. They
  // come first among lesser work, since until one answers every event is for that clinician, and a
  // read replaced or no longer needed while it waited for its turn is not sent.
  const subscribed = new SubscribedClinicians(
    (clinicianId, wanted) =>
      lesser.runExclusive(async () => (wanted() ? careTeams.patientsOf(clinicianId) : []), 1, 1),
    (error, retryInMs) =>
      logger.warn(
        {
          err: error instanceof Error ? { type: error.name, message: error.message } : { type: typeof error },
          retryInMs,
        },
        "reading a subscriber's patients failed; read again later",
      ),
  );
  hub.onReconnect(() => subscribed.reload());
  /**
   * Events offered one at a time per event type and patient: a subscription receives one type, each
   * patient's in the order the hub delivered them; the next event's item is read meanwhile but
   * offered only after this one.
   */
  const offerInOrder = inOrder();
  /** When each undelivered event was heard, oldest first. */
  const undelivered = new Set<{ heardAt: number }>();
  let count = 0;
  const key = (type: string, id: string) => `${type}\n${id}`;

  hub.listen((event) => {
    if (event.type === 'careTeamJoined') subscribed.joined(event.clinicianId, event.patientId);
    if (event.type === 'careTeamLeft') subscribed.left(event.clinicianId, event.patientId);
    const candidates: FeedSubscription[] = [];
    for (const feed of byPatient.get(key(event.type, event.patientId)) ?? [])
      if (feed.matches(event)) candidates.push(feed);
    for (const clinicianId of subscribed.on(event.patientId)) {
      for (const feed of byClinician.get(key(event.type, clinicianId)) ?? [])
        if (feed.matches(event)) candidates.push(feed);
    }
    if (candidates.length === 0) return;
    const waiting = { heardAt: performance.now() };
    undelivered.add(waiting);
    // A score alert is read at once; anything else waits for one of the lesser turns, held until sent.
    const turn: Promise<() => void> =
      event.type === 'scoreAlert'
        ? Promise.resolve(() => undefined)
        : lesser.acquire().then(([, release]) => release);
    const prepared = turn.then(() =>
      Promise.all([careTeams.members(event.patientId), candidates[0].load(event)]),
    );
    // Awaited only once the previous event is offered; a failure before then is not unhandled.
    prepared.catch(() => undefined);
    const handing: Handing = { order: event.patientId, sending: [] };
    offerInOrder(key(event.type, event.patientId), async () => {
      try {
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
            const pending = feed.offer(team, item, handing);
            if (pending) consulting.push(pending);
          } catch (error) {
            // One subscription's failure ends that subscription, not the delivery to the others.
            feed.fail(error);
          }
        }
        if (consulting.length > 0) await Promise.allSettled(consulting);
      } finally {
        // Delivered once every recipient's copy has left (or failed), not holding up the next event.
        void Promise.allSettled(handing.sending).then(async () => {
          undelivered.delete(waiting);
          (await turn)();
        });
      }
    });
  });

  const indexOf = (feed: FeedSubscription) =>
    feed.patientId === undefined
      ? { index: byClinician, k: key(feed.type, feed.clinicianId) }
      : { index: byPatient, k: key(feed.type, feed.patientId) };

  const backlog: DeliveryBacklog = {
    get events() {
      return undelivered.size;
    },
    oldestWaitMs() {
      for (const { heardAt } of undelivered) return performance.now() - heardAt;
      return 0;
    },
  };

  return {
    get count() {
      return count;
    },
    backlog,
    add(feed) {
      const { index, k } = indexOf(feed);
      let set = index.get(k);
      if (!set) index.set(k, (set = new Set()));
      if (set.has(feed)) return;
      set.add(feed);
      count++;
      if (feed.patientId === undefined) subscribed.hold(feed.clinicianId);
    },
    delete(feed) {
      const { index, k } = indexOf(feed);
      const set = index.get(k);
      if (!set?.delete(feed)) return;
      count--;
      if (set.size === 0) index.delete(k);
      if (feed.patientId === undefined) subscribed.release(feed.clinicianId);
    },
  };
}

/**
 * The patients of every clinician with an all-patients subscription on this instance, and those
 * clinicians by patient. Read from the database when a clinician's first such subscription starts
 * (and again after a lost LISTEN connection), then kept current by the hub's care-team events, which
 * arrive in commit order. It only narrows who is offered an event, never decides who receives it
 * (that is the care team's check at each delivery), so it may say too much but never too little:
 * while a clinician's patients are being read, every event is for that clinician, and the changes
 * heard meanwhile are applied on top of what was read. A failed read is tried again, waiting longer
 * after each failure in a row: until one answers, every event is for that clinician.
 */
export class SubscribedClinicians {
  private readonly clinicians = new Map<
    string,
    {
      subscriptions: number;
      patients?: Set<string>;
      heard: [joined: boolean, patientId: string][];
      /** The read under way, or the failed one whose retry is `retry`; a newer read replaces it. */
      attempt?: object;
      retry?: NodeJS.Timeout;
      /** Reads failed in a row. */
      failures: number;
    }
  >();
  private readonly byPatient = new Map<string, Set<string>>();
  /** Clinicians whose patients are being read: every event is for them meanwhile. */
  private readonly reading = new Set<string>();

  constructor(
    /** Once `wanted()` is false (replaced, or released), it may answer without reading: unused. */
    private readonly patientsOf: (clinicianId: string, wanted: () => boolean) => Promise<string[]>,
    private readonly failed: (error: unknown, retryInMs: number) => void,
    /**
     * How long to wait before reading again after the `failures`-th failure in a row: 0.5 s doubling to
     * 30 s, up to a quarter less at random, so that clinicians whose reads failed together do not retry
     * together.
     */
    private readonly retryAfter = (failures: number) =>
      Math.min(30_000, 250 * 2 ** failures) * (1 - Math.random() / 4),
  ) {}

  /** The clinicians that an event about this patient may be for. */
  *on(patientId: string): Iterable<string> {
    yield* this.byPatient.get(patientId) ?? [];
    yield* this.reading;
  }

  hold(clinicianId: string): void {
    const known = this.clinicians.get(clinicianId);
    if (known) {
      known.subscriptions++;
      return;
    }
    this.clinicians.set(clinicianId, { subscriptions: 1, heard: [], failures: 0 });
    this.read(clinicianId);
  }

  release(clinicianId: string): void {
    const known = this.clinicians.get(clinicianId);
    if (!known || --known.subscriptions > 0) return;
    clearTimeout(known.retry);
    this.forget(clinicianId);
    this.clinicians.delete(clinicianId);
    this.reading.delete(clinicianId);
  }

  joined(clinicianId: string, patientId: string): void {
    this.change(clinicianId, true, patientId);
  }

  left(clinicianId: string, patientId: string): void {
    this.change(clinicianId, false, patientId);
  }

  /** Changes may have gone unheard: every clinician's patients are read again. */
  reload(): void {
    for (const [clinicianId, known] of this.clinicians) {
      known.failures = 0;
      this.read(clinicianId);
    }
  }

  private change(clinicianId: string, joined: boolean, patientId: string): void {
    const known = this.clinicians.get(clinicianId);
    if (!known) return;
    if (this.reading.has(clinicianId)) known.heard.push([joined, patientId]);
    else this.apply(clinicianId, joined, patientId);
  }

  private apply(clinicianId: string, joined: boolean, patientId: string): void {
    const known = this.clinicians.get(clinicianId)!;
    if (joined) {
      known.patients!.add(patientId);
      let clinicians = this.byPatient.get(patientId);
      if (!clinicians) this.byPatient.set(patientId, (clinicians = new Set()));
      clinicians.add(clinicianId);
    } else {
      known.patients!.delete(patientId);
      this.unlink(clinicianId, patientId);
    }
  }

  private read(clinicianId: string): void {
    const known = this.clinicians.get(clinicianId)!;
    clearTimeout(known.retry);
    known.heard = [];
    this.reading.add(clinicianId);
    const attempt = {};
    known.attempt = attempt;
    // Released meanwhile, or read again since (after a reconnect): this read is not the one kept.
    const current = () => this.clinicians.get(clinicianId) === known && known.attempt === attempt;
    this.patientsOf(clinicianId, current).then(
      (patientIds) => {
        if (!current()) return;
        known.failures = 0;
        this.forget(clinicianId);
        known.patients = new Set();
        for (const patientId of patientIds) this.apply(clinicianId, true, patientId);
        for (const [joined, patientId] of known.heard) this.apply(clinicianId, joined, patientId);
        known.heard = [];
        this.reading.delete(clinicianId);
      },
      (error: unknown) => {
        if (!current()) return;
        const wait = this.retryAfter(++known.failures);
        // Cleared by a release or a newer read.
        known.retry = setTimeout(() => this.read(clinicianId), wait).unref();
        this.failed(error, wait);
      },
    );
  }

  private forget(clinicianId: string): void {
    for (const patientId of this.clinicians.get(clinicianId)?.patients ?? [])
      this.unlink(clinicianId, patientId);
  }

  private unlink(clinicianId: string, patientId: string): void {
    const clinicians = this.byPatient.get(patientId);
    if (!clinicians?.delete(clinicianId)) return;
    if (clinicians.size === 0) this.byPatient.delete(patientId);
  }
}

/**
 * Sends `item` to a subscription's caller, after the items of the same `order` handed before it;
 * settles once it has left (or failed).
 */
export type Deliver<T> = (item: T, audit: AuditEntry[], order: string) => Promise<void>;

/**
 * One subscription's live items, as the async iterable that graphql requires of a subscription's
 * source: the records' `LiveSubscription` decides which events it takes, whether its caller may
 * receive each item and what receiving it is audited as; the feed hands those items on.
 *
 * Items are pushed to the function given to `start`, not pulled: whoever sends them (one execution
 * per group of alike subscriptions, src/graphql/sharedExecution.ts) gathers an event's recipients in
 * the one pass. As an async iterable, a feed yields nothing and is done when the subscription ends:
 * when the client unsubscribes (`return`), or the caller left a one-patient subscription's care team.
 */
export class LiveFeed<T extends object> implements AsyncIterableIterator<never>, FeedSubscription {
  readonly type: CareEvent['type'];
  readonly patientId?: string;
  readonly clinicianId: string;
  private feeds?: LiveFeeds;
  private deliver?: Deliver<T>;
  private ended = false;
  private failure?: { error: unknown };
  private wake?: () => void;

  constructor(private readonly subscription: LiveSubscription<T>) {
    this.type = subscription.type;
    this.patientId = subscription.patientId;
    this.clinicianId = subscription.clinicianId;
  }

  /** Whether items still go to this subscription: false once it ended. */
  get open(): boolean {
    return !this.ended;
  }

  /**
   * Hands each item the caller may receive to `deliver`, in each patient's order, until the feed
   * ends, with the audit entries of this caller's receiving that item: stored by whoever sends it,
   * before it leaves, and only for this item (other items may be handed while it is being sent).
   */
  start(feeds: LiveFeeds, deliver: Deliver<T>): void {
    if (this.deliver) throw new Error('A live feed is started once');
    this.deliver = deliver;
    this.feeds = feeds;
    if (!this.ended) feeds.add(this);
  }

  matches(event: CareEvent): boolean {
    return this.subscription.matches(event);
  }

  load(event: CareEvent): Promise<T | null> {
    return this.subscription.load(event);
  }

  offer(team: ReadonlySet<string>, item: T | null, handing: Handing): Promise<void> | void {
    if (this.ended) return;
    const admission = this.subscription.admits(team);
    if (typeof admission === 'string') return this.admit(admission, item, handing);
    return admission.then(
      (decided) => this.admit(decided, item, handing),
      (error: unknown) => this.fail(error),
    );
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  private admit(admission: LiveAdmission, item: T | null, handing: Handing): void {
    if (admission === 'end') this.end();
    else if (admission === 'receive' && item !== null && !this.ended)
      handing.sending.push(this.deliver!(item, this.subscription.audit(item), handing.order));
  }

  private end(): void {
    this.ended = true;
    this.feeds?.delete(this);
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
