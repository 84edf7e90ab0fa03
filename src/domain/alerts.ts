import { INSTRUMENTS, Instrument, PHQ9_ITEM9_INDEX, SeverityBand } from './instruments';

export enum AlertKind {
  SUICIDAL_IDEATION = 'SUICIDAL_IDEATION',
  SEVERE_SYMPTOMS = 'SEVERE_SYMPTOMS',
  WORSENING = 'WORSENING',
  RESPONSE = 'RESPONSE',
  REMISSION = 'REMISSION',
  RELAPSE = 'RELAPSE',
  VITAL_SIGNS = 'VITAL_SIGNS',
}

export enum AlertLevel {
  CRITICAL = 'CRITICAL',
  WARNING = 'WARNING',
  INFO = 'INFO',
}

/**
 * Kinds raised at most once per course and instrument. RELAPSE is once per remission, and a course
 * has at most one REMISSION of an instrument, so it is once per course too.
 */
export const ONCE_PER_COURSE: readonly AlertKind[] = [
  AlertKind.RESPONSE,
  AlertKind.REMISSION,
  AlertKind.RELAPSE,
];

/** What the alert rules need to know about a measure and the patient's history with its instrument. */
export interface MeasureFacts {
  instrument: Instrument;
  responses: readonly number[];
  total: number;
  severity: SeverityBand;
  /** Total of the latest earlier measure of this instrument in the course; undefined for the first. */
  previousTotal?: number;
  /** Total of the course's earliest measure of this instrument; undefined when this one is the baseline. */
  baselineTotal?: number;
  /** Once-only kinds already raised for this course and instrument. */
  alreadyRaised: ReadonlySet<AlertKind>;
}

export interface AlertDecision {
  kind: AlertKind;
  level: AlertLevel;
  message: string;
}

/** The alert rules of CLINICAL.md ("Alerts"). One measure can raise several. */
export function decideAlerts(facts: MeasureFacts): AlertDecision[] {
  const spec = INSTRUMENTS[facts.instrument];
  const alerts: AlertDecision[] = [];
  const item9 = facts.responses[PHQ9_ITEM9_INDEX];
  if (facts.instrument === Instrument.PHQ9 && item9 >= 1) {
    alerts.push({
      kind: AlertKind.SUICIDAL_IDEATION,
      level: AlertLevel.CRITICAL,
      message: `PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered ${item9} of 3: assess suicide risk now`,
    });
  }
  if (facts.severity === SeverityBand.SEVERE) {
    alerts.push({
      kind: AlertKind.SEVERE_SYMPTOMS,
      level: AlertLevel.WARNING,
      message: `${spec.label} total ${facts.total}: severe symptoms`,
    });
  }
  if (facts.previousTotal !== undefined && facts.total - facts.previousTotal >= spec.worseningRise) {
    alerts.push({
      kind: AlertKind.WORSENING,
      level: AlertLevel.WARNING,
      message: `${spec.label} rose ${facts.total - facts.previousTotal} points since the previous measure (${facts.previousTotal} → ${facts.total})`,
    });
  }
  // After a remission, a total back in the range a course would start from.
  if (
    facts.alreadyRaised.has(AlertKind.REMISSION) &&
    !facts.alreadyRaised.has(AlertKind.RELAPSE) &&
    facts.total >= spec.clinicalBaseline
  ) {
    alerts.push({
      kind: AlertKind.RELAPSE,
      level: AlertLevel.WARNING,
      message: `${spec.label} relapse: ${facts.total} after a remission this course, at or above ${spec.clinicalBaseline}`,
    });
  }
  const baseline = facts.baselineTotal;
  if (baseline !== undefined && baseline >= spec.clinicalBaseline) {
    if (facts.total * 2 <= baseline && !facts.alreadyRaised.has(AlertKind.RESPONSE)) {
      alerts.push({
        kind: AlertKind.RESPONSE,
        level: AlertLevel.INFO,
        message: `${spec.label} response: ${facts.total}, at most half the baseline of ${baseline}`,
      });
    }
    if (facts.total < spec.remissionBelow && !facts.alreadyRaised.has(AlertKind.REMISSION)) {
      alerts.push({
        kind: AlertKind.REMISSION,
        level: AlertLevel.INFO,
        message: `${spec.label} remission: ${facts.total}, below ${spec.remissionBelow} from a baseline of ${baseline}`,
      });
    }
  }
  return alerts;
}

/** `changeFromBaseline`: this total minus the baseline's (0 for the baseline itself). */
export function changeFromBaseline(total: number, baselineTotal: number | undefined): number {
  return baselineTotal === undefined ? 0 : total - baselineTotal;
}
