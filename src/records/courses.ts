import type { EntityManager } from '@mikro-orm/postgresql';
import type { Literal, Row, Statement } from '../db/plainTransaction';
import { READ_ACTION } from '../domain/audit';
import { PatientStatus } from '../domain/patientStatus';
import { Clinician, TreatmentCourse, type Patient } from '../entities';
import { PerPatient, readTogether } from './perPatient';
import { reach, type PatientRow, type Reached } from './rows';
import type { RequestScope } from './scope';

/** A record that belongs to a course of treatment. */
interface InCourse {
  course: Reached;
}

const patientOf = (course: TreatmentCourse) => course.patient.id;

/** A patient's courses of treatment, from referral to discharge. */
export class CourseRecords {
  private readonly all = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        TreatmentCourse,
        this.scope.em
          .createQueryBuilder(TreatmentCourse)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy([{ patient: 'asc' }, { number: 'asc' }]),
      ),
    patientOf,
  );
  constructor(private readonly scope: RequestScope) {}

  /**
   * The patient's current course: the open one, or the one just closed while they are discharged
   * (what is recorded after a discharge, such as a follow-up measure, belongs to that course). Read
   * in the caller's transaction, under the patient's row lock.
   */
  async current(em: EntityManager, patientId: string): Promise<TreatmentCourse> {
    return (await this.currentWith(em, patientId, {}, [])).course;
  }

  /**
   * The current course, with more columns computed in the same statement from the course row
   * \`c\` (\`columns\`: name to SQL expression, its \`?\` bound from \`params\` in order).
   */
  async currentWith<C extends string>(
    em: EntityManager,
    patientId: string,
    columns: Record<C, string>,
    params: Literal[],
  ): Promise<{ course: TreatmentCourse; extra: Record<C, unknown> }> {
    const statement = this.currentStatement(patientId, columns, params);
    const [row] = await em
      .getConnection()
      .execute<Row[]>(statement.sql, [...statement.params], 'all', em.getTransactionContext());
    const { course, extra } = this.currentOfRow(patientId, row, columns);
    return { course: em.map(TreatmentCourse, course), extra };
  }

  /**
   * The statement of `currentWith`, for a caller that sends it itself (`currentOfRow` reads its row).
   * With `onlyIf`, a condition judged once as the statement starts, nothing of the course is read
   * unless it holds: the answer is then always one row, the condition's value as `allowed` beside the
   * course's columns, which are null when it does not hold.
   */
  currentStatement<C extends string>(
    patientId: string,
    columns: Record<C, string>,
    params: Literal[],
    onlyIf?: Statement,
  ): Statement {
    const names = Object.keys(columns) as C[];
    const select = ['c.*', ...names.map((name) => `(${columns[name]}) as "${name}"`)].join(', ');
    const current = (gate: string) =>
      `select ${select} from treatment_course c where ${gate}c.patient_id = ? order by c.number desc limit 1`;
    if (!onlyIf) return { sql: current(''), params: [...params, patientId] };
    // The course is read in a subquery of its own (its limit keeps it apart), where the condition is a
    // constant: PostgreSQL does not even start the scan when it is false.
    return {
      sql: `select g.allowed, c.* from (select ${onlyIf.sql} as allowed) g left join lateral (${current('g.allowed and ')}) c on true`,
      params: [...onlyIf.params, ...params, patientId],
    };
  }

  /** The course row of `currentStatement`'s answer and the extra columns, apart (`allowed` dropped). */
  currentOfRow<C extends string>(
    patientId: string,
    row: Row | undefined,
    columns: Record<C, string>,
  ): { course: Row; extra: Record<C, unknown> } {
    if (!row || row.id == null) throw new Error(`Patient ${patientId} has no course of treatment`);
    const { allowed: _allowed, ...course } = row;
    const extra = {} as Record<C, unknown>;
    for (const name of Object.keys(columns) as C[]) {
      extra[name] = course[name];
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a driver row: the extra columns come out before mapping
      delete course[name];
    }
    return { course, extra };
  }

  /** Course 1, opened with the patient. */
  openFirst(em: EntityManager, patient: Patient): TreatmentCourse {
    return em.create(TreatmentCourse, { patient, number: 1, openedBy: this.scope.clinician.id });
  }

  /** A referral after a discharge opens the next course. */
  async openNext(em: EntityManager, patient: Patient): Promise<TreatmentCourse> {
    const last = await this.current(em, patient.id);
    const course = em.create(TreatmentCourse, {
      patient,
      number: last.number + 1,
      openedBy: this.scope.clinician.id,
    });
    this.scope.audit({
      action: 'course.open',
      patientId: patient.id,
      entity: 'TreatmentCourse',
      entityId: course.id,
    });
    return course;
  }

  /** Discharge closes the current course with its reason. */
  async close(em: EntityManager, patient: Patient, reason: string): Promise<TreatmentCourse> {
    const course = await this.current(em, patient.id);
    course.closedAt = new Date();
    course.closedBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
    course.dischargeReason = reason;
    this.scope.audit({
      action: 'course.close',
      patientId: patient.id,
      entity: 'TreatmentCourse',
      entityId: course.id,
    });
    return course;
  }

  /** Oldest first; the patients of a page in one statement. */
  async forPatient(patient: PatientRow): Promise<TreatmentCourse[]> {
    const courses = await this.all.of(patient.id, null);
    this.auditRead(courses);
    return courses;
  }

  /**
   * The current course (as `current`): the last of the patient's courses, read with `courses` when a
   * page asks for both.
   */
  async currentOf(patient: PatientRow): Promise<TreatmentCourse> {
    const course = (await this.all.of(patient.id, null)).at(-1)!;
    this.auditRead([course]);
    return course;
  }

  /** The course of a record the caller already reached (batched by the dataloader). */
  async ofRecord(record: InCourse): Promise<TreatmentCourse> {
    const course = (await reach(this.scope, TreatmentCourse, record.course))!;
    this.auditRead([course]);
    return course;
  }

  /** A closed course is DISCHARGED; the open one stands where its patient stands. */
  async status(course: TreatmentCourse): Promise<PatientStatus> {
    if (course.closedAt) return PatientStatus.DISCHARGED;
    return (await course.patient.load())!.status;
  }

  private auditRead(courses: TreatmentCourse[]) {
    this.scope.audit(
      ...courses.map((c) => ({
        action: READ_ACTION.TreatmentCourse,
        patientId: c.patient.id,
        entity: 'TreatmentCourse',
        entityId: c.id,
      })),
    );
  }
}
