import type { CareTeamAccess } from '../auth/access';
import { READ_ACTION } from '../domain/audit';
import { mayDo } from '../domain/roles';
import {
  AuditEvent,
  Clinician,
  Consent,
  EligibilityAssessment,
  Measure,
  Prescription,
  PsychotherapyNote,
  ScoreAlert,
  TreatmentCourse,
  TreatmentSession,
} from '../entities';
import { badInput, forbidden } from '../errors';
import type { Node } from '../entities/Node';
import type { PatientRecords } from './patients';
import type { PlanRecords } from './plans';
import type { RequestScope } from './scope';

/**
 * Every type that implements Node (src/entities/Node.ts), with where its rows live: a test checks the
 * schema's implementations against this table. A record of a patient is reached under the same
 * care-team check and audited as the same read as through its other fields; a psychotherapy note
 * only by its author; a clinician by one who shares a care team with them (or an admin); an audit
 * event by an admin.
 */
const PATIENT_RECORDS = {
  Measure: { entity: Measure, table: 'measure' },
  ScoreAlert: { entity: ScoreAlert, table: 'score_alert' },
  TreatmentSession: { entity: TreatmentSession, table: 'treatment_session' },
  EligibilityAssessment: { entity: EligibilityAssessment, table: 'eligibility_assessment' },
  Consent: { entity: Consent, table: 'consent' },
  Prescription: { entity: Prescription, table: 'prescription' },
  TreatmentCourse: { entity: TreatmentCourse, table: 'treatment_course' },
} as const;

type PatientRecordType = keyof typeof PATIENT_RECORDS;
export const NODE_TYPES: readonly string[] = [
  'Patient',
  'TreatmentPlan',
  'PsychotherapyNote',
  'Clinician',
  'AuditEvent',
  ...Object.keys(PATIENT_RECORDS),
];

/** One round trip: which table holds the id, and which patient the row belongs to. */
const WHICH_SQL = `
  select 'Patient' as type, id as patient_id from patient where id = ?
  union all select 'TreatmentPlan', patient_id from treatment_plan where id = ?
  ${Object.entries(PATIENT_RECORDS)
    .map(([type, { table }]) => `union all select '${type}', patient_id from ${table} where id = ?`)
    .join('\n  ')}
  union all select 'PsychotherapyNote', s.patient_id from psychotherapy_note n join treatment_session s on s.id = n.session_id where n.id = ? and n.author_id = ?
  union all select 'Clinician', null from clinician where id = ?`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AUDIT_EVENT_ID = /^\d{1,19}$/;

/** Most ids `nodes(ids:)` takes at once. */
export const MAX_NODES = 100;

/** `node(id:)` and `nodes(ids:)`: any object by its id, as the caller may see it. */
export class NodeRecords {
  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly patients: PatientRecords,
    private readonly plans: PlanRecords,
  ) {}

  /** `null` for an id nothing has; FORBIDDEN where the caller may not see it. */
  async get(id: string): Promise<Node | null> {
    if (AUDIT_EVENT_ID.test(id)) {
      this.access.requireRole('readAuditLog');
      return this.scope.em.findOne(AuditEvent, { id });
    }
    if (!UUID.test(id)) throw badInput('id is not a valid id');
    const key = id.toLowerCase();
    const me = this.scope.clinician.id;
    const params = [...Array(2 + Object.keys(PATIENT_RECORDS).length).fill(key), key, me, key];
    const [row] = await this.scope.em.getConnection().execute<
      {
        type: 'Patient' | 'TreatmentPlan' | 'PsychotherapyNote' | 'Clinician' | PatientRecordType;
        patient_id: string | null;
      }[]
    >(WHICH_SQL, params);
    if (!row) return null;
    switch (row.type) {
      case 'Patient':
        return this.patients.get(key);
      case 'TreatmentPlan':
        return this.plans.get(key);
      case 'Clinician':
        return this.clinician(key);
      case 'PsychotherapyNote': {
        // The author's own note (the query matched only those); still only while on the care team.
        await this.access.requirePatient(this.scope.em, row.patient_id!);
        const note = await this.scope.em.findOneOrFail(PsychotherapyNote, { id: key, author: me });
        this.scope.audit({
          action: READ_ACTION.PsychotherapyNote,
          patientId: row.patient_id!,
          entity: 'PsychotherapyNote',
          entityId: key,
        });
        return note;
      }
      default: {
        const source = PATIENT_RECORDS[row.type];
        await this.access.requirePatient(this.scope.em, row.patient_id!);
        const record = (await this.scope.em.findOne(source.entity, { id: key })) as Node | null;
        if (record)
          this.scope.audit({
            action: READ_ACTION[row.type],
            patientId: row.patient_id!,
            entity: row.type,
            entityId: key,
          });
        return record;
      }
    }
  }

  /** Each id as `get` answers it, each failing alone (an error at its index, null in the list). */
  many(ids: string[]): Promise<Node | null>[] {
    if (ids.length > MAX_NODES) throw badInput(`ids may hold at most ${MAX_NODES} ids`);
    return ids.map((id) => this.get(id));
  }

  private async clinician(id: string): Promise<Clinician | null> {
    const me = this.scope.clinician;
    if (id !== me.id && !mayDo(me.role, 'readAnyClinician')) {
      const [shared] = await this.scope.em
        .getConnection()
        .execute<unknown[]>(
          'select 1 from care_team_member mine join care_team_member theirs on theirs.patient_id = mine.patient_id where mine.clinician_id = ? and theirs.clinician_id = ? limit 1',
          [me.id, id],
        );
      if (!shared) throw forbidden('You share no care team with this clinician');
    }
    return this.scope.em.findOne(Clinician, { id });
  }
}
