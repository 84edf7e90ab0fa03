/**
 * Every action the audit log records (`audit_event.action`), `<entity>.<verb>`. Reads are audited as
 * the read of their record (`READ_ACTION`), whichever path reached it.
 */
export const AUDIT_ACTIONS = [
  'patient.create',
  'patient.read',
  'patient.status',
  'careTeam.add',
  'careTeam.remove',
  'course.open',
  'course.close',
  'course.read',
  'eligibility.create',
  'eligibility.read',
  'consent.create',
  'consent.withdraw',
  'consent.read',
  'prescription.create',
  'prescription.void',
  'prescription.read',
  'session.create',
  'session.complete',
  'session.read',
  'dose.administer',
  'psychotherapyNote.write',
  'psychotherapyNote.read',
  'measure.create',
  'measure.read',
  'alert.create',
  'alert.acknowledge',
  'alert.read',
  'plan.create',
  'plan.open',
  'plan.ticket',
  'plan.edit',
  'plan.read',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The action a read of each kind of record is audited as, by the record's entity name. */
export const READ_ACTION = {
  Patient: 'patient.read',
  TreatmentCourse: 'course.read',
  EligibilityAssessment: 'eligibility.read',
  Consent: 'consent.read',
  Prescription: 'prescription.read',
  TreatmentSession: 'session.read',
  PsychotherapyNote: 'psychotherapyNote.read',
  Measure: 'measure.read',
  ScoreAlert: 'alert.read',
  TreatmentPlan: 'plan.read',
} as const satisfies Record<string, AuditAction>;
