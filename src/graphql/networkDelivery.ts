import type { LoadSettings } from '../config/config';
import type { DeliveryReport } from '../events/events';
import type { EventHub } from '../events/hub';
import type { DeliveryBacklog } from './liveFeeds';

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
 * it was reported, so an instance that is stuck is seen crossing the delay allowed when it does, not
 * a report later.
 */
export interface NetworkDelivery {
  /** The worst of this instance's backlog and of the reports in force, each figure on its own. */
  readonly backlog: DeliveryBacklog;
  /** Stops reporting and hearing reports; the others let this instance's last one expire. */
  stop(): void;
}

export function networkDelivery(
  hub: EventHub,
  local: DeliveryBacklog,
  settings: Pick<LoadSettings, 'deliveryReportIntervalMs' | 'deliveryReportExpiryMs'>,
): NetworkDelivery {
  const heard = new Map<string, { report: DeliveryReport; heardAt: number }>();
  const stopHearing = hub.onReport((report) =>
    heard.set(report.instance, { report, heardAt: performance.now() }),
  );

  /** Whether the others' last word from here, as far as it was sent, is of events undelivered. */
  let reportedBehind = false;
  let sending = false;
  const timer = setInterval(() => {
    const events = local.events;
    // One report at a time: the next tick sends fresher figures than a report queued behind it would.
    if (sending || (events === 0 && !reportedBehind)) return;
    sending = true;
    hub
      .report({ events, oldestWaitMs: Math.round(local.oldestWaitMs()) })
      .then(
        () => (reportedBehind = events > 0),
        // Not sent: the next tick tries again, and the others' copy expires meanwhile.
        () => undefined,
      )
      .finally(() => (sending = false));
  }, settings.deliveryReportIntervalMs);
  timer.unref();

  /** The reports in force with how long ago each was heard; the expired ones are forgotten. */
  function* inForce(): Iterable<{ report: DeliveryReport; age: number }> {
    const now = performance.now();
    for (const [instance, { report, heardAt }] of heard) {
      const age = now - heardAt;
      if (age > settings.deliveryReportExpiryMs) heard.delete(instance);
      else yield { report, age };
    }
  }

  return {
    backlog: {
      get events() {
        let worst = local.events;
        for (const { report } of inForce()) worst = Math.max(worst, report.events);
        return worst;
      },
      oldestWaitMs() {
        let worst = local.oldestWaitMs();
        for (const { report, age } of inForce())
          if (report.events > 0) worst = Math.max(worst, report.oldestWaitMs + age);
        return worst;
      },
    },
    stop() {
      clearInterval(timer);
      stopHearing();
    },
  };
}
