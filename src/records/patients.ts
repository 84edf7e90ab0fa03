import type { FilterQuery } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { READ_ACTION } from '../domain/audit';
import type { PatientStatus } from '../domain/patientStatus';
import { CLINICAL_ROLES } from '../domain/roles';
import { CareTeamMember, Clinician, Patient } from '../entities';
import { badInput, conflict, notFound } from '../errors';
import { announce, statementsOf } from '../events/journal';
import { parseId } from '../ids';
import { pageRequest, toConnection, type ConnectionShape } from './paging';
import { parseCalendarDate } from '../entities/scalars';
import type { CourseRecords } from './courses';
import { mapRow, PerPatient } from './perPatient';
import {
  careTeamMemberRow,
  patientRow,
  reach,
  type CareTeamMemberRow,
  type PatientRow,
  type Reached,
} from './rows';
import type { RequestScope } from './scope';
import { PageIds } from './together';

export interface NewPatient {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
}

/** Patients and their care teams, as one clinician may see and change them. Every read is audited. */
export class PatientRecords {
  /** Members with their clinicians, who every care team shows; the patients of a page in one statement. */
  private readonly teams = new PerPatient(
    async (ids: string[] | PageIds) =>
      (
        await this.scope.together.read({
          sql: `select m.*, to_jsonb(c) as clinician from care_team_member m join clinician c on c.id = m.clinician_id
            where m.patient_id = any(?::uuid[]) order by m.patient_id, m.added_at, m.id`,
          params: [ids],
        })
      ).map(careTeamMemberRow),
    (member) => member.patient.id,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly courses: CourseRecords,
  ) {}

  /**
   * A page of the caller's patients. `readAhead` may start reads of the page's list fields
   * (`readCareTeamsAhead`…), which then come back in the page's own statement.
   */
  async list(
    args: {
      first: number;
      after?: string | null;
      status?: PatientStatus | null;
    },
    readAhead: (page: PageIds) => void = () => undefined,
  ): Promise<ConnectionShape<PatientRow>> {
    const page = pageRequest(
      { first: args.first, after: args.after ?? null },
      { defaultFirst: args.first, firstGiven: true },
    );
    const onMyTeam = this.access.onMyTeam('p.id');
    const conditions = [onMyTeam.sql];
    const params = [...onMyTeam.params];
    if (args.status) {
      conditions.push('p.status = ?');
      params.push(args.status);
    }
    if (page.after !== undefined) {
      conditions.push('p.id > ?');
      params.push(parseId(page.after, 'after'));
    }
    const { rows: read, ids } = this.scope.together.readPage({
      sql: `select p.* from patient p where ${conditions.join(' and ')} order by p.id limit ?`,
      params: [...params, page.size + 1],
    });
    readAhead(ids);
    const rows = await read;
    const filter: FilterQuery<Patient>[] = [this.access.myPatients()];
    if (args.status) filter.push({ status: args.status });
    const connection = toConnection(
      rows.map(patientRow),
      page,
      (patient) => patient.id,
      () => this.scope.em.count(Patient, { $and: filter }),
    );
    this.scope.audit(...connection.edges.map(({ node }) => readEntry(node)));
    return connection;
  }

  /**
   * `null` for an unknown id; FORBIDDEN when off the care team. `readAhead` may start reads of the
   * patient's list fields (`readCareTeamsAhead`…), which then come back in the same statement as the
   * patient, and only if the caller is on its care team.
   */
  async get(id: string, readAhead: (patients: PageIds) => void = () => undefined): Promise<Patient | null> {
    const patientId = parseId(id, 'id');
    // As `findPatient`, in the request's batch of reads.
    const found = this.scope.together.read(this.access.patientStatement(patientId)).then(([row]) => {
      const patient = this.access.patientOf(row);
      return patient && mapRow(this.scope, Patient, patient);
    });
    const onMyTeam = this.access.onMyTeam('p.id');
    readAhead(
      new PageIds(
        {
          sql: `select p.id from patient p where p.id = ? and ${onMyTeam.sql}`,
          params: [patientId, ...onMyTeam.params],
        },
        found.then(
          (patient) => new Set(patient ? [patient.id] : []),
          () => new Set(),
        ),
      ),
    );
    const patient = await found;
    if (patient) this.scope.audit(readEntry(patient));
    return patient;
  }

  /**
   * The patient a measure or alert belongs to. Whoever holds the record already passed the care-team
   * check for it; reaching the patient's details this way is audited like any other read.
   */
  async ofRecord(record: { patient: Reached }): Promise<Patient> {
    const patient = (await reach(this.scope, Patient, record.patient))!;
    this.scope.audit(readEntry(patient));
    return patient;
  }

  /** The care team of a patient already reached through this record, in the order they joined. */
  careTeam(patient: PatientRow): Promise<CareTeamMemberRow[]> {
    return this.teams.of(patient.id, null);
  }

  /** The care teams of a page's patients, read with the page (`list`). */
  readCareTeamsAhead(page: PageIds): void {
    this.teams.ahead(page, null);
  }

  async create(input: NewPatient): Promise<Patient> {
    this.access.requireRole('registerPatients');
    const firstName = personName(input.firstName, 'firstName');
    const lastName = personName(input.lastName, 'lastName');
    const dateOfBirth = birthDate(input.dateOfBirth);
    const me = this.scope.clinician;
    return this.scope.write(async (em) => {
      const patient = em.create(Patient, { firstName, lastName, dateOfBirth, createdBy: me.id });
      const course = this.courses.openFirst(em, patient);
      // Whoever registers a patient joins the care team, or nobody could reach the record.
      const member = em.create(CareTeamMember, { patient, clinician: me.id, role: me.role, addedBy: me.id });
      await em.flush();
      await announce(statementsOf(em), [
        { type: 'careTeamJoined', id: member.id, patientId: patient.id, clinicianId: me.id },
      ]);
      this.scope.audit(
        { action: 'patient.create', patientId: patient.id, entity: 'Patient', entityId: patient.id },
        { action: 'careTeam.add', patientId: patient.id, entity: 'CareTeamMember', entityId: member.id },
        { action: 'course.open', patientId: patient.id, entity: 'TreatmentCourse', entityId: course.id },
      );
      return patient;
    });
  }

  async addCareTeamMember(patientId: string, email: string): Promise<Patient> {
    this.access.requireRole('changeCareTeams');
    const id = parseId(patientId, 'patientId');
    const address = email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(address) || address.length > 320)
      throw badInput('email is not a valid address');
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, id, { lock: true });
      const candidates = await em.find(Clinician, { email: address }, { limit: 2 });
      if (candidates.length === 0) {
        throw notFound(
          'No clinician with that email has signed in yet; they must sign in once before joining a care team',
        );
      }
      if (candidates.length > 1)
        throw conflict('More than one clinician has that email; ask an admin to resolve it');
      const [clinician] = candidates;
      if (!CLINICAL_ROLES.includes(clinician.role)) throw badInput('An admin cannot join a care team');
      if ((await em.count(CareTeamMember, { patient: id, clinician: clinician.id })) > 0) {
        throw conflict('That clinician is already on this care team');
      }
      const member = em.create(CareTeamMember, {
        patient,
        clinician,
        role: clinician.role,
        addedBy: this.scope.clinician.id,
      });
      await em.flush();
      // Instances that keep this team in memory (src/auth/careTeams.ts) read it afresh.
      await announce(statementsOf(em), [
        { type: 'careTeamJoined', id: member.id, patientId: id, clinicianId: clinician.id },
      ]);
      this.scope.audit({
        action: 'careTeam.add',
        patientId: id,
        entity: 'CareTeamMember',
        entityId: member.id,
      });
      return patient;
    });
  }

  async removeCareTeamMember(patientId: string, clinicianId: string): Promise<Patient> {
    this.access.requireRole('changeCareTeams');
    const id = parseId(patientId, 'patientId');
    const memberClinician = parseId(clinicianId, 'clinicianId');
    return this.scope.write(async (em) => {
      // The row lock serialises team changes, so two removals cannot leave a team empty.
      const patient = await this.access.requirePatient(em, id, { lock: true });
      const members = await em.find(CareTeamMember, { patient: id });
      const member = members.find((m) => m.clinician.id === memberClinician);
      if (!member) throw notFound('That clinician is not on this care team');
      if (members.length === 1) throw conflict('The last member of a care team cannot be removed');
      em.remove(member);
      await em.flush();
      // Open live documents of this patient drop the removed clinician's connections; instances that
      // keep this team in memory read it afresh.
      await announce(statementsOf(em), [
        { type: 'careTeamLeft', id: member.id, patientId: id, clinicianId: memberClinician },
      ]);
      this.scope.audit({
        action: 'careTeam.remove',
        patientId: id,
        entity: 'CareTeamMember',
        entityId: member.id,
      });
      return patient;
    });
  }
}

function readEntry(patient: PatientRow) {
  return { action: READ_ACTION.Patient, patientId: patient.id, entity: 'Patient', entityId: patient.id };
}

function personName(value: string, field: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > 200) throw badInput(`${field} must be 1 to 200 characters`);
  return name;
}

function birthDate(value: string): string {
  const date = parseCalendarDate(value);
  const today = new Date().toISOString().slice(0, 10);
  if (date > today) throw badInput('dateOfBirth cannot be in the future');
  if (date < '1900-01-01') throw badInput('dateOfBirth must be after 1900-01-01');
  return date;
}
