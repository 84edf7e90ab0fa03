import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeardReports } from '../src/graphql/networkDelivery';

const EXPIRY_MS = 1000;

/** Reports heard on a clock the test moves. */
function heardOn(start = 5_000) {
  const clock = { now: start };
  const reports = new HeardReports(EXPIRY_MS, () => clock.now);
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
