import { AuditEvent } from './AuditEvent';
import { CareTeamMember } from './CareTeamMember';
import { Clinician } from './Clinician';
import { Patient } from './Patient';

/** Every entity, registered explicitly (no folder scanning: it behaves the same from src and dist). */
export const entities = [Clinician, Patient, CareTeamMember, AuditEvent];

export { AuditEvent, CareTeamMember, Clinician, Patient };
