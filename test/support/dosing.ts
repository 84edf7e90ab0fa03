import type { CompleteDosingSessionInput } from '../generated/graphql';

/** A complete, unremarkable record of a 40 mg IM ketamine dose; `change` overrides any part. */
export const dosingInput = (sessionId: string, prescriptionId: string, change: Partial<CompleteDosingSessionInput> = {}): CompleteDosingSessionInput => ({
  sessionId,
  prescriptionId,
  doseMg: 40,
  lotNumber: 'KX-2291',
  bloodPressureBefore: { systolic: 138, diastolic: 86 },
  bloodPressureAfter: { systolic: 152, diastolic: 92 },
  minutesMonitored: 75,
  adverseEvents: [],
  ...change,
});
