/**
 * When things in a patient's record happened. A measure is answered, a dose given, a session held
 * at a time that has passed (a tablet's clock a minute ahead is still "now"), not before the
 * patient was born, and nothing here predates 1900; a session is scheduled within the next two
 * years. A time outside is a typo or a broken clock, and would become a baseline or reorder the
 * record.
 */
const CLOCK_SKEW_MS = 60_000;
const EARLIEST_CLINICAL_TIME = new Date('1900-01-01T00:00:00Z');
const SCHEDULING_HORIZON_MS = 2 * 366 * 24 * 60 * 60 * 1000;

/** Why `at`, the time something happened, cannot be recorded as `field`, or undefined. */
export function happenedAtRefusal(
  field: string,
  at: Date,
  context: { now: Date; bornOn?: string },
): string | undefined {
  if (at.getTime() > context.now.getTime() + CLOCK_SKEW_MS) return `${field} cannot be in the future`;
  if (at < EARLIEST_CLINICAL_TIME)
    return `${field} cannot be before ${EARLIEST_CLINICAL_TIME.toISOString().slice(0, 10)}`;
  if (context.bornOn && at.toISOString().slice(0, 10) < context.bornOn)
    return `${field} cannot be before the patient's date of birth`;
  return undefined;
}

/** Why `at`, the time something is planned for, cannot be recorded as `field`, or undefined. */
export function scheduledAtRefusal(field: string, at: Date, context: { now: Date }): string | undefined {
  if (at < EARLIEST_CLINICAL_TIME)
    return `${field} cannot be before ${EARLIEST_CLINICAL_TIME.toISOString().slice(0, 10)}`;
  if (at.getTime() > context.now.getTime() + SCHEDULING_HORIZON_MS)
    return `${field} must be within two years from now`;
  return undefined;
}
