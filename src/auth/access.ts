import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
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
  async findPatient(
    em: EntityManager,
    id: string,
    options: { lock?: boolean } = {},
  ): Promise<Patient | null> {
    if (options.lock) {
      // The patient's row locked and the membership read in one statement (PostgreSQL cannot lock
      // through the outer join of the membership filter, so membership is a column).
      const [row] = await em.getConnection().execute<Record<string, unknown>[]>(
        `select p.*, exists (select 1 from care_team_member m where m.patient_id = p.id and m.clinician_id = ?) as on_team
         from patient p where p.id = ? for update of p`,
        [this.clinician.id, id],
        'all',
        em.getTransactionContext(),
      );
      if (!row) return null;
      const { on_team: onTeam, ...patient } = row;
      if (!onTeam) throw this.notOnTeam();
      return em.map(Patient, patient);
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
