import { ref, type EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { scheduledAtRefusal } from '../domain/clinicalTime';
import { AdverseEvent, dosingRefusal, implausibleBloodPressure, integrationOutsideWindow, SessionKind, type BloodPressure } from '../domain/pathway';
import { Protocol } from '../domain/plans';
import { Role } from '../domain/roles';
import { Clinician, Prescription, TreatmentPlan, TreatmentSession, type Patient } from '../entities';
import { badInput, conflict, forbidden, notFound } from '../errors';
import { parseId } from '../ids';
import type { CourseRecords } from './courses';
import type { PathwayRecords } from './pathway';
import { PerPatient } from './perPatient';
import type { RequestScope } from './scope';

export interface NewSession {
  planId: string;
  kind: SessionKind;
  scheduledAt: Date;
  dosingSessionId?: string | null;
}

export interface DosingRecord {
  sessionId: string;
  prescriptionId: string;
  doseMg: number;
  lotNumber: string;
  before: BloodPressure;
  after?: BloodPressure | null;
  minutesMonitored: number;
  adverseEvents: AdverseEvent[];
  bloodPressureOverrideReason?: string | null;
}

/** Who completes which kind of session: the prescriber gives doses, the therapist does the therapy. */
const COMPLETED_BY: Record<SessionKind, readonly Role[]> = {
  [SessionKind.PREPARATION]: [Role.THERAPIST],
  [SessionKind.DOSING]: [Role.PRESCRIBER],
  [SessionKind.INTEGRATION]: [Role.THERAPIST],
  [SessionKind.FOLLOW_UP]: [Role.PRESCRIBER, Role.THERAPIST],
};

/** Sessions of a patient's treatment plans. */
export class SessionRecords {
  private readonly ofPatients = new PerPatient(
    (ids: string[]) => this.scope.em.find(TreatmentSession, { patient: { $in: ids } }, { orderBy: { scheduledAt: 'asc', id: 'asc' } }),
    (session) => session.patient.id,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly pathway: PathwayRecords,
    private readonly courses: CourseRecords,
  ) {}

  async schedule(input: NewSession): Promise<TreatmentSession> {
    this.access.requireClinician('schedule sessions');
    const planId = parseId(input.planId, 'planId');
    const dosingId = input.dosingSessionId ? parseId(input.dosingSessionId, 'dosingSessionId') : undefined;
    if (dosingId && input.kind !== SessionKind.INTEGRATION) throw badInput('only an integration session refers to a dosing session');
    const refusal = scheduledAtRefusal('scheduledAt', input.scheduledAt, { now: new Date() });
    if (refusal) throw badInput(refusal);
    return this.scope.write(async (em) => {
      const plan = await em.findOne(TreatmentPlan, { id: planId });
      if (!plan) throw notFound('No treatment plan with that id');
      const patient = await this.access.requirePatient(em, plan.patient.id, { lock: true });
      const course =
        input.kind === SessionKind.DOSING ? await this.pathway.requireTreatable(em, patient, 'cannot schedule a dosing session') : await this.courses.current(em, patient.id);
      if (plan.course.id !== course.id) throw conflict('that plan belongs to an earlier course of treatment; create a plan for the current course');
      let dosing: TreatmentSession | undefined;
      if (dosingId) {
        dosing = (await em.findOne(TreatmentSession, { id: dosingId, plan: planId, kind: SessionKind.DOSING })) ?? undefined;
        if (!dosing) throw badInput('dosingSessionId must name a dosing session of the same plan');
      }
      const session = em.create(TreatmentSession, { patient, course, plan, kind: input.kind, scheduledAt: input.scheduledAt, dosingSession: dosing, scheduledBy: this.scope.clinician.id });
      await em.flush();
      this.scope.audit({ action: 'session.create', patientId: patient.id, entity: 'TreatmentSession', entityId: session.id });
      return session;
    });
  }

  /** PRESCRIBER only: the administration record of a dose, checked against the active prescription. */
  async completeDosing(input: DosingRecord): Promise<TreatmentSession> {
    this.requireRole(SessionKind.DOSING);
    const sessionId = parseId(input.sessionId, 'sessionId');
    const prescriptionId = parseId(input.prescriptionId, 'prescriptionId');
    const lotNumber = input.lotNumber.trim();
    if (lotNumber.length === 0 || lotNumber.length > 64) throw badInput('lotNumber must be 1 to 64 characters');
    if (!Number.isFinite(input.doseMg) || input.doseMg <= 0) throw badInput('doseMg must be a positive number of milligrams');
    if (!Number.isInteger(input.minutesMonitored) || input.minutesMonitored < 0 || input.minutesMonitored > 1440) throw badInput('minutesMonitored must be a whole number from 0 to 1440');
    const bpProblem = implausibleBloodPressure(input.before) ?? (input.after ? implausibleBloodPressure(input.after) : undefined);
    if (bpProblem) throw badInput(bpProblem);
    return this.scope.write(async (em) => {
      const session = await this.openSession(em, sessionId, SessionKind.DOSING);
      const patientId = session.patient.id;
      const course = await this.pathway.requireTreatable(em, (await session.patient.load())!, 'cannot dose');
      if (session.course.id !== course.id) throw conflict('that dosing session belongs to an earlier course of treatment');
      const prescription = await em.findOne(Prescription, { id: prescriptionId, patient: patientId });
      if (!prescription) throw badInput("prescriptionId must name one of this patient's prescriptions");
      if (prescription.voidedAt) throw conflict('that prescription is void; dose only under an active prescription');
      const refusal = dosingRefusal(
        { route: prescription.route, doseMg: input.doseMg, before: input.before, minutesMonitored: input.minutesMonitored, overrideReason: input.bloodPressureOverrideReason },
        { route: prescription.route, doseMg: Number(prescription.doseMg) },
      );
      if (refusal) throw conflict(refusal);
      const plan = await em.findOneOrFail(TreatmentPlan, { id: session.plan.id });
      if (plan.route !== prescription.route) throw conflict(`the plan is for the ${plan.route} route; the prescription is for ${prescription.route}`);
      Object.assign(session, {
        completedAt: new Date(),
        completedBy: em.getReference(Clinician, this.scope.clinician.id, { wrapped: true }),
        prescription: ref(prescription),
        route: prescription.route,
        doseMg: input.doseMg,
        lotNumber,
        systolicBefore: input.before.systolic,
        diastolicBefore: input.before.diastolic,
        systolicAfter: input.after?.systolic ?? undefined,
        diastolicAfter: input.after?.diastolic ?? undefined,
        minutesMonitored: input.minutesMonitored,
        adverseEvents: [...new Set(input.adverseEvents)],
        bloodPressureOverrideReason: input.bloodPressureOverrideReason?.trim() || undefined,
      });
      await em.flush();
      this.scope.audit({ action: 'dose.administer', patientId, entity: 'TreatmentSession', entityId: session.id });
      return session;
    });
  }

  /** Preparation and integration by the therapist, follow-up by either. */
  async complete(sessionId: string): Promise<TreatmentSession> {
    const id = parseId(sessionId, 'sessionId');
    return this.scope.write(async (em) => {
      const session = await this.openSession(em, id);
      if (session.kind === SessionKind.DOSING) throw badInput('a dosing session is completed with completeDosingSession, which records the dose');
      this.requireRole(session.kind);
      session.completedAt = new Date();
      session.completedBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
      await em.flush();
      this.scope.audit({ action: 'session.complete', patientId: session.patient.id, entity: 'TreatmentSession', entityId: session.id });
      return session;
    });
  }

  /** In scheduled order; the patients of a page in one statement. */
  async forPatient(patient: Patient): Promise<TreatmentSession[]> {
    const rows = await this.ofPatients.of(patient.id, null);
    this.auditRead(rows);
    return rows;
  }

  /** The dosing session an integration session integrates, for a session already reached. */
  async dosingSessionOf(session: TreatmentSession): Promise<TreatmentSession | null> {
    const dosing = session.dosingSession ? ((await session.dosingSession.load()) ?? null) : null;
    if (dosing) this.auditRead([dosing]);
    return dosing;
  }

  /** Under SEPARATE_DAY, an integration session outside one to two days after its dose. */
  async outsideWindow(session: TreatmentSession): Promise<boolean> {
    if (session.kind !== SessionKind.INTEGRATION || !session.dosingSession) return false;
    const plan = await session.plan.load();
    if (plan?.protocol !== Protocol.SEPARATE_DAY) return false;
    const dosing = await session.dosingSession.load();
    if (!dosing) return false;
    return integrationOutsideWindow(dosing.completedAt ?? dosing.scheduledAt, session.completedAt ?? session.scheduledAt);
  }

  /** A session of a patient on the caller's care team, for a note: FORBIDDEN off the team. */
  async get(em: EntityManager, id: string, options: { lock?: boolean } = {}): Promise<TreatmentSession> {
    const session = await em.findOne(TreatmentSession, { id });
    if (!session) throw notFound('No session with that id');
    await this.access.requirePatient(em, session.patient.id, options);
    return session;
  }

  private async openSession(em: EntityManager, id: string, kind?: SessionKind): Promise<TreatmentSession> {
    const session = await this.get(em, id, { lock: true });
    if (kind && session.kind !== kind) throw badInput(`that is a ${session.kind} session, not ${kind}`);
    if (session.completedAt) throw conflict('That session is already completed');
    return session;
  }

  private requireRole(kind: SessionKind): void {
    const roles = COMPLETED_BY[kind];
    if (!roles.includes(this.scope.clinician.role)) throw forbidden(`A ${kind} session is completed by ${roles.join(' or ')} only`);
  }

  private auditRead(rows: TreatmentSession[]) {
    this.scope.audit(...rows.map((s) => ({ action: 'session.read', patientId: s.patient.id, entity: 'TreatmentSession', entityId: s.id })));
  }
}
