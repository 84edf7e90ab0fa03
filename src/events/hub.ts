import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger';
import {
  DELIVERY_REPORT_CHANNEL,
  EVENT_CHANNEL,
  parseCareEvent,
  parseDeliveryReport,
  type CareEvent,
  type DeliveryReport,
} from './events';

type Listener = (event: CareEvent) => void;
type ReportListener = (report: DeliveryReport) => void;

/** The hub's LISTEN connection as `pg_stat_activity` names it. */
export const EVENT_HUB_APPLICATION = 'kap-event-hub';

/**
 * The connection that sends this instance's delivery reports. Not the LISTEN connection: a NOTIFY
 * commits only once it holds PostgreSQL's one lock on the notification queue, which every notifying
 * transaction (each write's) holds through its commit, and a listening connection hears nothing while
 * it waits, so every alert committed meanwhile would wait with the report (BENCHMARKS.md, issue 19).
 */
export const REPORTS_APPLICATION = 'kap-delivery-reports';

export interface EventHub {
  /** Calls `listener` with every committed event from any instance, until the returned function is called. */
  listen(listener: Listener): () => void;
  /**
   * Calls `listener` each time a lost LISTEN connection is back, before what was committed meanwhile
   * is replayed. Whatever was kept up to date by events that are not replayed (care-team changes)
   * must be forgotten then.
   */
  onReconnect(listener: () => void): () => void;
  /**
   * Tells the other instances how far behind this one's delivery is, over a connection of the hub's
   * own: never waiting behind a pool, and never on the LISTEN connection (`REPORTS_APPLICATION`).
   * Rejects when it could not be sent (the connection is down): the others then let this instance's
   * last report expire.
   */
  report(backlog: Omit<DeliveryReport, 'instance'>): Promise<void>;
  /** Calls `listener` with every other instance's delivery report, until the returned function is called. */
  onReport(listener: ReportListener): () => void;
  close(): Promise<void>;
}

/**
 * One LISTEN connection per instance, fanned out in process; it also hears the instances' delivery
 * reports to each other (`onReport`), which go out over a second connection (`report`). If the
 * LISTEN connection drops it reconnects
 * by itself and replays what was committed meanwhile from the tables (`catchUp`); events already
 * delivered are recognised by id and not delivered twice.
 */
export async function startEventHub(options: {
  databaseUrl: string;
  logger: Logger;
  /** Events committed at or after `since`, read back from the tables. */
  catchUp: (since: Date) => Promise<CareEvent[]>;
}): Promise<EventHub> {
  const { databaseUrl, logger, catchUp } = options;
  const listeners = new Set<Listener>();
  const reconnectListeners = new Set<() => void>();
  const reportListeners = new Set<ReportListener>();
  /** This instance, as its delivery reports are signed. */
  const instance = randomUUID();
  const delivered = new RecentIds(50_000);
  let client: pg.Client | undefined;
  let closed = false;
  let lostAt: Date | undefined;

  const deliver = (event: CareEvent) => {
    if (!delivered.add(`${event.type}:${event.id}`)) return;
    for (const listener of listeners) listener(event);
  };

  /**
   * Opens a LISTEN connection. Its notifications are held until `settled` has run: after a lost
   * connection, listeners must forget what the gap may have changed (`onReconnect`) before any event
   * reaches them, and a notification can arrive in the same read as the reply to LISTEN itself.
   */
  const connect = async (settled: () => void = () => undefined): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl, application_name: EVENT_HUB_APPLICATION });
    let held: CareEvent[] | undefined = [];
    next.on('notification', (message) => {
      if (message.channel === DELIVERY_REPORT_CHANNEL) {
        const report = parseDeliveryReport(message.payload);
        // This connection hears its own reports too.
        if (report && report.instance !== instance) for (const listener of reportListeners) listener(report);
        return;
      }
      const event = message.channel === EVENT_CHANNEL ? parseCareEvent(message.payload) : undefined;
      if (!event) return;
      if (held) held.push(event);
      else deliver(event);
    });
    next.on('error', (error) =>
      logger.warn({ err: { type: error.name, message: error.message } }, 'event connection error'),
    );
    next.on('end', () => {
      if (closed || client !== next) return;
      lostAt = new Date();
      logger.warn('event connection lost; reconnecting');
      void reconnect();
    });
    await next.connect();
    await next.query(`listen ${EVENT_CHANNEL}`);
    await next.query(`listen ${DELIVERY_REPORT_CHANNEL}`);
    client = next;
    settled();
    const waiting = held;
    held = undefined;
    for (const event of waiting) deliver(event);
  };

  const reconnect = async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await connect(() => {
          for (const listener of reconnectListeners) listener();
        });
        // Whatever committed while nobody listened (with a margin for clock and commit skew).
        const since = new Date((lostAt ?? new Date()).getTime() - 5_000);
        for (const event of await catchUp(since)) deliver(event);
        logger.info('event connection restored');
        return;
      } catch (error) {
        logger.warn({ attempt, err: { type: (error as Error).name } }, 'event reconnect failed');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  };

  // One connection, opened again on the next report after it is lost. A report needs no durability:
  // a lost one expires.
  const reports = new pg.Pool({
    connectionString: databaseUrl,
    application_name: REPORTS_APPLICATION,
    options: '-c synchronous_commit=off',
    max: 1,
    // A report held longer is stale; meanwhile the others' copy of the last one expires.
    connectionTimeoutMillis: 2_000,
    query_timeout: 2_000,
  });
  reports.on('error', (error) =>
    logger.warn({ err: { type: error.name, message: error.message } }, 'delivery report connection error'),
  );

  await connect();
  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    report(backlog) {
      if (closed) return Promise.reject(new Error('The event hub is closed'));
      const payload = JSON.stringify({ instance, ...backlog } satisfies DeliveryReport);
      return reports
        .query('select pg_notify($1, $2)', [DELIVERY_REPORT_CHANNEL, payload])
        .then(() => undefined);
    },
    onReport(listener) {
      reportListeners.add(listener);
      return () => reportListeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      reconnectListeners.clear();
      reportListeners.clear();
      await Promise.all([client?.end().catch(() => undefined), reports.end().catch(() => undefined)]);
    },
  };
}

/** A bounded set of recently seen ids, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** False when the id was seen already. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}
