import type { CompleteDosingSessionInput } from '../generated/graphql';
import { fromNow, MINUTE } from './time';

const normal = { systolic: 138, diastolic: 86, heartRate: 76, oxygenSaturation: 97 };

/**
 * A complete, unremarkable record of a 40 mg IM ketamine dose given 90 minutes ago and discharged
 * 10 minutes ago (schedule its session at least 90 minutes back); `change` overrides any part.
 */
export const dosingInput = (
  sessionId: string,
  prescriptionId: string,
  change: Partial<CompleteDosingSessionInput> = {},
): CompleteDosingSessionInput => ({
  sessionId,
  prescriptionId,
  doseMg: 40,
  lotNumber: 'KX-2291',
  administeredAt: fromNow(-90 * MINUTE).toISOString(),
  vitalSignsBefore: normal,
  vitalSignsAfter: { ...normal, systolic: 152, diastolic: 92 },
  vitalSignsAtDischarge: { ...normal, systolic: 134, diastolic: 84 },
  dischargedAt: fromNow(-10 * MINUTE).toISOString(),
  fitToLeave: true,
  adverseEvents: [],
  ...change,
});
