import { AuditEvent } from './AuditEvent';
import { CareTeamMember } from './CareTeamMember';
import { Consent } from './Consent';
import { EligibilityAssessment } from './EligibilityAssessment';
import { Clinician } from './Clinician';
import { Measure } from './Measure';
import { Patient } from './Patient';
import { Prescription } from './Prescription';
import { PsychotherapyNote } from './PsychotherapyNote';
import { ScoreAlert } from './ScoreAlert';
import { TreatmentCourse } from './TreatmentCourse';
import { TreatmentPlan } from './TreatmentPlan';
import { TreatmentSession } from './TreatmentSession';

/** Every entity, registered explicitly (no folder scanning: it behaves the same from src and dist). */
export const entities = [
  Clinician,
  Patient,
  CareTeamMember,
  AuditEvent,
  Measure,
  ScoreAlert,
  TreatmentPlan,
  EligibilityAssessment,
  Consent,
  Prescription,
  TreatmentSession,
  PsychotherapyNote,
  TreatmentCourse,
];

export {
  AuditEvent,
  CareTeamMember,
  Clinician,
  Consent,
  EligibilityAssessment,
  Measure,
  Patient,
  Prescription,
  PsychotherapyNote,
  ScoreAlert,
  TreatmentCourse,
  TreatmentPlan,
  TreatmentSession,
};
