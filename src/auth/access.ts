import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import { actionRefusal, type RoleAction } from '../domain/roles';
import { CareTeamMember, Patient, type Clinician } from '../entities';
import { forbidden, notFound } from '../errors';

/**
 * The single place that decides who reaches a patient: a clinician does while on the patient's care
 * team, and nobody else does. Records (src/records) get patients only through here, so a resolver
 * cannot skip the check.
 */
export class CareTeamAccess {
  constructor(private readonly clinician: Clinician) {}

  /** Patients the caller may see, as a filter to combine with others. */
  myPatients(): FilterQuery<Patient> {
    return { careTeam: { clinician: this.clinician.id } };
  }

  /**
   * The patient if the caller is on its care team. `null` when there is no such patient; FORBIDDEN
   * when there is one but the caller is not on its team.
   */
  async findPatient(em: EntityManager, id: string, options: { lock?: boolean } = {}): Promise<Patient | null> {
    if (options.lock) {
      // Row lock first (PostgreSQL cannot lock through the outer join of the membership filter).
      const patient = await em.findOne(Patient, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (patient && !(await this.isOnTeam(em, id))) {
        throw this.notOnTeam();
      }
      return patient;
    }
    const patient = await em.findOne(Patient, { $and: [{ id }, this.myPatients()] });
    if (patient) return patient;
    if ((await em.count(Patient, { id })) > 0) throw this.notOnTeam();
    return null;
  }

  async isOnTeam(em: EntityManager, patientId: string): Promise<boolean> {
    return (await em.count(CareTeamMember, { patient: patientId, clinician: this.clinician.id })) > 0;
  }

  /** Whether the caller is on a care team read once for many callers (src/auth/careTeams.ts). */
  isIn(careTeam: ReadonlySet<string>): boolean {
    return careTeam.has(this.clinician.id);
  }

  private notOnTeam() {
    return forbidden("You are not on this patient's care team");
  }

  async requirePatient(em: EntityManager, id: string, options: { lock?: boolean } = {}): Promise<Patient> {
    const patient = await this.findPatient(em, id, options);
    if (!patient) throw notFound('No patient with that id');
    return patient;
  }

  /** FORBIDDEN unless the caller's role may do `action` (`ROLE_RULES`): admins manage nothing clinical. */
  requireRole(action: RoleAction): void {
    const refusal = actionRefusal(this.clinician.role, action);
    if (refusal) throw forbidden(refusal);
  }
}
