import { AuditEvent } from './AuditEvent';
import { CareTeamMember } from './CareTeamMember';
import { Clinician } from './Clinician';
import { Measure } from './Measure';
import { Patient } from './Patient';
import { ScoreAlert } from './ScoreAlert';
import { TreatmentPlan } from './TreatmentPlan';

/** Every entity, registered explicitly (no folder scanning: it behaves the same from src and dist). */
export const entities = [Clinician, Patient, CareTeamMember, AuditEvent, Measure, ScoreAlert, TreatmentPlan];

export { AuditEvent, CareTeamMember, Clinician, Measure, Patient, ScoreAlert, TreatmentPlan };
