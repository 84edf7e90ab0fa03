import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { actionRefusal, type RoleAction } from '../domain/roles';
import { CareTeamMember, Patient } from '../entities';
import type { SignedInClinician } from './provision';
import { forbidden, notFound } from '../errors';
import type { Statement } from '../db/plainTransaction';

/**
 * The single place that decides who reaches a patient: a clinician does while on the patient's care
 * team, and nobody else does. Records (src/records) get patients only through here, so a resolver
 * cannot skip the check.
 */
export class CareTeamAccess {
  constructor(private readonly clinician: SignedInClinician) {}

  /** Patients the caller may see, as a filter to combine with others. */
  myPatients(): FilterQuery<Patient> {
    return { careTeam: { clinician: this.clinician.id } };
  }

  /**
   * The same, as SQL for a statement written by hand: whether the caller is on the care team of the
   * patient `patientId` names (a column or a placeholder), with its parameter.
   */
  onMyTeam(patientId: string): Statement {
    return {
      sql: `exists (select 1 from care_team_member m where m.patient_id = ${patientId} and m.clinician_id = ?)`,
      params: [this.clinician.id],
    };
  }

  /**
   * Whether the caller is on the care team of patient `id`, as a condition for a statement written by
   * hand that must read nothing of the patient otherwise (`requireOnTeam` reads its value).
   */
  onTeamOf(id: string): Statement {
    const onTeam = this.onMyTeam('?');
    return { sql: onTeam.sql, params: [id, ...onTeam.params] };
  }

  /** FORBIDDEN unless `onTeam`, the value of an `onTeamOf` condition, is true. */
  requireOnTeam(onTeam: unknown): void {
    if (onTeam !== true) throw this.notOnTeam();
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
    const { sql, params } = this.patientStatement(id, options);
    const [row] = await em
      .getConnection()
      .execute<Record<string, unknown>[]>(sql, [...params], 'all', em.getTransactionContext());
    const patient = this.patientOf(row);
    return patient && em.map(Patient, patient);
  }

  /**
   * The statement `findPatient` sends, for a caller that sends it itself (`patientOf` reads its
   * answer): the patient and the caller's membership in one statement, membership as a column. A
   * filter could not tell FORBIDDEN from not found, and PostgreSQL cannot lock through its outer join.
   */
  patientStatement(id: string, options: { lock?: boolean } = {}): Statement {
    const onTeam = this.onMyTeam('p.id');
    return {
      sql: `select p.*, ${onTeam.sql} as on_team from patient p where p.id = ?${options.lock ? ' for update of p' : ''}`,
      params: [...onTeam.params, id],
    };
  }

  /** The patient row of `patientStatement`'s answer if the caller is on its care team (as `findPatient`). */
  patientOf(row: Record<string, unknown> | undefined): Record<string, unknown> | null {
    if (!row) return null;
    const { on_team: onMyTeam, ...patient } = row;
    if (!onMyTeam) throw this.notOnTeam();
    return patient;
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
    if (!patient) throw this.noPatient();
    return patient;
  }

  /** The patient row of `patientStatement`'s answer, as `requirePatient`: NOT_FOUND, FORBIDDEN or the row. */
  requirePatientOf(row: Record<string, unknown> | undefined): Record<string, unknown> {
    const patient = this.patientOf(row);
    if (!patient) throw this.noPatient();
    return patient;
  }

  private noPatient() {
    return notFound('No patient with that id');
  }

  /** FORBIDDEN unless the caller's role may do `action` (`ROLE_RULES`): admins manage nothing clinical. */
  requireRole(action: RoleAction): void {
    const refusal = actionRefusal(this.clinician.role, action);
    if (refusal) throw forbidden(refusal);
  }
}
