/**
 * Times for tests, always relative to the moment the test runs, so the suite holds on any date
 * (the server refuses consents and measures in the future, and orders sessions by time).
 */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The instant `ms` from now (negative: in the past). */
export const fromNow = (ms: number): Date => new Date(Date.now() + ms);

/** The calendar date (YYYY-MM-DD, UTC) `days` before today. */
export const daysAgo = (days: number): string =>
  fromNow(-days * DAY)
    .toISOString()
    .slice(0, 10);
