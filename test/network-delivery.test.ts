import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDeliveryReport } from '../src/events/events';
import { HeardReports, type DeliveryLimits } from '../src/graphql/networkDelivery';

const EXPIRY_MS = 1000;
/** The hearing instance's own limits, as DEFAULT_LOAD's. */
const OWN: DeliveryLimits = { delayMs: 250, backlog: 100 };

/** Reports heard on a clock the test moves. */
function heardOn(start = 5_000) {
  const clock = { now: start };
  const reports = new HeardReports(EXPIRY_MS, OWN, () => clock.now);
  return { clock, reports };
}

describe('a reported backlog, as another instance holds it', () => {
  it('keeps ageing between reports: W ms waited when heard is W + d ms at d ms later, until the report expires', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: EXPIRY_MS }),
        (waited, events, later) => {
          const { clock, reports } = heardOn();
          reports.hear({ instance: 'stalled', events, oldestWaitMs: waited });
          clock.now += later;
          expect(reports.oldestWaitMs()).toBe(waited + later);
          expect(reports.events).toBe(events);
        },
      ),
    );
  });

  it('holds a stalled instance over the delay allowed from the moment it crosses it, with no report after the first', () => {
    const { clock, reports } = heardOn();
    // 250 ms allowed; the stalled instance's only report says 200 ms.
    reports.hear({ instance: 'stalled', events: 1, oldestWaitMs: 200 });
    clock.now += 50;
    expect(reports.oldestWaitMs()).toBe(250);
    clock.now += 1;
    expect(reports.oldestWaitMs()).toBeGreaterThan(250);
    clock.now = 5_000 + EXPIRY_MS;
    expect(reports.oldestWaitMs()).toBe(1200);
    // Expired: it holds no one's writes any more.
    clock.now += 1;
    expect([reports.events, reports.oldestWaitMs()]).toEqual([0, 0]);
  });

  it("ages each instance's latest report from when that one was heard; a report of nothing undelivered lets go at once", () => {
    const { clock, reports } = heardOn();
    reports.hear({ instance: 'a', events: 3, oldestWaitMs: 100 });
    reports.hear({ instance: 'b', events: 7, oldestWaitMs: 10 });
    clock.now += 300;
    expect([reports.events, reports.oldestWaitMs()]).toEqual([7, 400]);
    // a's fresher report replaces its first: aged from now, not from then.
    reports.hear({ instance: 'a', events: 2, oldestWaitMs: 150 });
    clock.now += 100;
    expect([reports.events, reports.oldestWaitMs()]).toEqual([7, 410]);
    reports.hear({ instance: 'b', events: 0, oldestWaitMs: 0 });
    expect([reports.events, reports.oldestWaitMs()]).toEqual([2, 250]);
    reports.hear({ instance: 'a', events: 0, oldestWaitMs: 0 });
    expect([reports.events, reports.oldestWaitMs()]).toEqual([0, 0]);
  });
});

describe("another instance's report is judged by the limits it carries, not the hearer's", () => {
  it('a reporter allowed a longer delay or more events is not behind where the hearer would be, and one allowed less is', () => {
    const { clock, reports } = heardOn();
    reports.hear({
      instance: 'patient',
      events: 150,
      oldestWaitMs: 900,
      limits: { delayMs: 1000, backlog: 200 },
    });
    expect(reports.anyBehind()).toBe(false);
    // Its oldest event keeps ageing, and crosses its own delay allowed 100 ms on.
    clock.now += 100;
    expect(reports.anyBehind()).toBe(false);
    clock.now += 1;
    expect(reports.anyBehind()).toBe(true);

    const strict = heardOn();
    strict.reports.hear({
      instance: 'strict',
      events: 3,
      oldestWaitMs: 0,
      limits: { delayMs: 250, backlog: 4 },
    });
    expect(strict.reports.anyBehind()).toBe(false);
    strict.reports.hear({
      instance: 'strict',
      events: 4,
      oldestWaitMs: 0,
      limits: { delayMs: 250, backlog: 4 },
    });
    expect(strict.reports.anyBehind()).toBe(true);
    strict.reports.hear({
      instance: 'strict',
      events: 1,
      oldestWaitMs: 60,
      limits: { delayMs: 50, backlog: 4 },
    });
    expect(strict.reports.anyBehind()).toBe(true);
  });

  it('matches the rule for any limits: behind exactly when its events reach its backlog or its aged wait passes its delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: EXPIRY_MS }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 5000 }),
        (events, waited, later, backlog, delayMs) => {
          const { clock, reports } = heardOn();
          reports.hear({ instance: 'any', events, oldestWaitMs: waited, limits: { delayMs, backlog } });
          clock.now += later;
          expect(reports.anyBehind()).toBe(events >= backlog || (events > 0 && waited + later > delayMs));
        },
      ),
    );
  });

  it("judges a report without limits (from a version that sent none) by the hearer's own, and none once expired", () => {
    const { clock, reports } = heardOn();
    reports.hear({ instance: 'older', events: 1, oldestWaitMs: 200 });
    expect(reports.anyBehind()).toBe(false);
    clock.now += 51;
    expect(reports.anyBehind()).toBe(true);
    clock.now += EXPIRY_MS;
    expect(reports.anyBehind()).toBe(false);
  });

  it('are read off the wire with their limits, or without them when they are not two numbers', () => {
    const sent = { instance: 'x', events: 2, oldestWaitMs: 12, limits: { delayMs: 250, backlog: 100 } };
    expect(parseDeliveryReport(JSON.stringify(sent))).toEqual(sent);
    expect(
      parseDeliveryReport(JSON.stringify({ ...sent, limits: { delayMs: '250', backlog: 100 } })),
    ).toEqual({
      instance: 'x',
      events: 2,
      oldestWaitMs: 12,
    });
    expect(parseDeliveryReport(JSON.stringify({ ...sent, limits: null }))).toEqual({
      instance: 'x',
      events: 2,
      oldestWaitMs: 12,
    });
    expect(parseDeliveryReport(JSON.stringify({ ...sent, events: 'many' }))).toBeUndefined();
  });
});
