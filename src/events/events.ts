/** The PostgreSQL channel every instance LISTENs on. */
export const EVENT_CHANNEL = 'kap_events';

/** The channel on which instances tell each other how far behind their delivery is. */
export const DELIVERY_REPORT_CHANNEL = 'kap_delivery_reports';

/**
 * What travels between instances: ids, never clinical content, so payloads stay far below
 * PostgreSQL's 8000-byte NOTIFY limit and nothing sensitive sits in the notification queue.
 */
export type CareEvent =
  | { type: 'scoreAlert'; id: string; patientId: string }
  | { type: 'measureRecorded'; id: string; patientId: string }
  /** Updates appended to a plan's document log (`id` is the last of `updateIds`). */
  | { type: 'planUpdated'; id: string; patientId: string; planId: string; updateIds: string[] }
  /** One section's text changed (`id` is `<last update id>:<section>`). */
  | { type: 'planSectionChanged'; id: string; patientId: string; planId: string; section: string }
  /** A clinician joined a patient's care team (`id` is the membership's). */
  | { type: 'careTeamJoined'; id: string; patientId: string; clinicianId: string }
  /** A clinician was removed from a patient's care team (`id` is the membership's). */
  | { type: 'careTeamLeft'; id: string; patientId: string; clinicianId: string };

const TYPES: readonly CareEvent['type'][] = [
  'scoreAlert',
  'measureRecorded',
  'planUpdated',
  'planSectionChanged',
  'careTeamJoined',
  'careTeamLeft',
];

export function parseCareEvent(payload: string | undefined): CareEvent | undefined {
  try {
    const event = JSON.parse(payload ?? '') as CareEvent;
    if (TYPES.includes(event.type) && typeof event.id === 'string' && typeof event.patientId === 'string') {
      return event;
    }
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}

/**
 * One instance's live delivery backlog, as it tells the others (`src/graphql/networkDelivery.ts`):
 * its id, two counts and the two limits it is held to, nothing about any patient. It carries no
 * clock of the sender's: a report is as old as its receiver has held it, since the instances' clocks
 * need not agree.
 */
export interface DeliveryReport {
  /** The reporting instance, one random id per process start. */
  instance: string;
  /** Events heard for its subscribers and not yet sent to every recipient. */
  events: number;
  /** How long the oldest of them had waited when the report was sent, in milliseconds. */
  oldestWaitMs: number;
  /**
   * The reporter's own `MAX_DELIVERY_DELAY_MS` and `MAX_DELIVERY_BACKLOG`: every instance judges the
   * report by these, so instances configured apart still agree on when each one is behind. Absent
   * from a report of a version that did not send them, which the hearer judges by its own.
   */
  limits?: { delayMs: number; backlog: number };
}

export function parseDeliveryReport(payload: string | undefined): DeliveryReport | undefined {
  try {
    const report = JSON.parse(payload ?? '') as DeliveryReport;
    if (
      typeof report.instance === 'string' &&
      Number.isFinite(report.events) &&
      Number.isFinite(report.oldestWaitMs)
    ) {
      const { instance, events, oldestWaitMs, limits } = report;
      if (limits && Number.isFinite(limits.delayMs) && Number.isFinite(limits.backlog))
        return {
          instance,
          events,
          oldestWaitMs,
          limits: { delayMs: limits.delayMs, backlog: limits.backlog },
        };
      return { instance, events, oldestWaitMs };
    }
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}
