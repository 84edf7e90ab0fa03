import type { LoadSettings } from '../config/config';
import type { DeliveryReport } from '../events/events';
import type { EventHub } from '../events/hub';
import type { DeliveryBacklog } from './liveFeeds';

/** The two limits an instance's delivery is held to, from its own settings. */
export type DeliveryLimits = NonNullable<DeliveryReport['limits']>;

/**
 * Whether a backlog is behind by `limits`: as many events waiting as allowed, or the oldest waiting
 * longer. The one rule for this instance's own backlog and for each report heard from another.
 */
export const isBehind = (events: number, oldestWaitMs: number, limits: DeliveryLimits): boolean =>
  events >= limits.backlog || oldestWaitMs > limits.delayMs;

/**
 * The live delivery backlog of every instance over the database, for the write gate (`Admission`):
 * a write admitted on one instance raises alerts that another instance's subscribers wait for, so
 * judged by its own backlog alone each instance went on admitting writes while the other fell
 * seconds behind them (BENCHMARKS.md, issue 19).
 *
 * An instance with events undelivered reports its backlog over the hub every
 * `deliveryReportIntervalMs`, and once more when it has none left, so that the others let go at once;
 * an idle one is silent. A report holds for `deliveryReportExpiryMs` after it was heard, on the
 * hearer's clock: an instance that stops reporting (closed, crashed, cut off from the database)
 * holds no one's writes past that. Meanwhile its oldest event is taken to have gone on waiting since
 * it was reported (`HeardReports`), so an instance that is stuck is seen crossing the delay allowed
 * when it does, not a report later. Each report carries its reporter's limits, and is judged by them:
 * instances whose `MAX_DELIVERY_DELAY_MS` or `MAX_DELIVERY_BACKLOG` differ still agree on who is behind.
 */
export interface NetworkDelivery {
  /** Whether this instance is behind by its own limits, or any report in force by its reporter's. */
  behind(): boolean;
  /** The worst of this instance's backlog and of the reports in force, each figure on its own (metrics). */
  readonly backlog: DeliveryBacklog;
  /** Stops reporting and hearing reports; the others let this instance's last one expire. */
  stop(): void;
}

export function networkDelivery(
  hub: EventHub,
  local: DeliveryBacklog,
  settings: Pick<
    LoadSettings,
    'maxDeliveryDelayMs' | 'maxDeliveryBacklog' | 'deliveryReportIntervalMs' | 'deliveryReportExpiryMs'
  >,
): NetworkDelivery {
  const limits: DeliveryLimits = {
    delayMs: settings.maxDeliveryDelayMs,
    backlog: settings.maxDeliveryBacklog,
  };
  const heard = new HeardReports(settings.deliveryReportExpiryMs, limits);
  const stopHearing = hub.onReport((report) => heard.hear(report));

  /** Whether the others' last word from here, as far as it was sent, is of events undelivered. */
  let reportedBehind = false;
  let sending = false;
  const timer = setInterval(() => {
    const events = local.events;
    // One report at a time: the next tick sends fresher figures than a report queued behind it would.
    if (sending || (events === 0 && !reportedBehind)) return;
    sending = true;
    hub
      .report({ events, oldestWaitMs: Math.round(local.oldestWaitMs()), limits })
      .then(
        () => (reportedBehind = events > 0),
        // Not sent: the next tick tries again, and the others' copy expires meanwhile.
        () => undefined,
      )
      .finally(() => (sending = false));
  }, settings.deliveryReportIntervalMs);
  timer.unref();

  return {
    behind: () => isBehind(local.events, local.oldestWaitMs(), limits) || heard.anyBehind(),
    backlog: {
      get events() {
        return Math.max(local.events, heard.events);
      },
      oldestWaitMs() {
        return Math.max(local.oldestWaitMs(), heard.oldestWaitMs());
      },
    },
    stop() {
      clearInterval(timer);
      stopHearing();
    },
  };
}

/**
 * The other instances' reports as this one heard them, the latest of each, on the hearer's clock
 * (`now`, in milliseconds). A report holds for `expiryMs` after it was heard; until then its oldest
 * event is taken to have gone on waiting for as long as the report has been held, so an instance that
 * stalls, and reports nothing fresher, is seen crossing the delay allowed when it does. Each is judged
 * by the limits it carries; one without (from a version that sent none) by `ownLimits`.
 */
export class HeardReports implements DeliveryBacklog {
  private readonly heard = new Map<string, { report: DeliveryReport; heardAt: number }>();

  constructor(
    private readonly expiryMs: number,
    private readonly ownLimits: DeliveryLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Keeps `report` in place of the reporter's previous one. */
  hear(report: DeliveryReport): void {
    this.heard.set(report.instance, { report, heardAt: this.now() });
  }

  /** Whether any report in force is behind by its reporter's limits, its oldest event aged. */
  anyBehind(): boolean {
    for (const { report, waitedMs } of this.inForce())
      if (isBehind(report.events, waitedMs, report.limits ?? this.ownLimits)) return true;
    return false;
  }

  /** The most events any report in force holds; 0 when none is. */
  get events(): number {
    let worst = 0;
    for (const { report } of this.inForce()) worst = Math.max(worst, report.events);
    return worst;
  }

  /** The longest any report in force has had an event waiting: what it said, plus its age here. */
  oldestWaitMs(): number {
    let worst = 0;
    for (const { waitedMs } of this.inForce()) worst = Math.max(worst, waitedMs);
    return worst;
  }

  /**
   * The reports in force, each with how long its oldest event has waited by now (0 when it has
   * none); the expired ones are forgotten.
   */
  private *inForce(): Iterable<{ report: DeliveryReport; waitedMs: number }> {
    const now = this.now();
    for (const [instance, { report, heardAt }] of this.heard) {
      const age = now - heardAt;
      if (age > this.expiryMs) this.heard.delete(instance);
      else yield { report, waitedMs: report.events > 0 ? report.oldestWaitMs + age : 0 };
    }
  }
}
