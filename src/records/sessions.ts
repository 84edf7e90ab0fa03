import { ref, type EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { READ_ACTION } from '../domain/audit';
import { scheduledAtRefusal } from '../domain/clinicalTime';
import type { DosingSettings } from '../config/config';
import { AlertKind, AlertLevel } from '../domain/alerts';
import {
  doseRecordProblem,
  doseSpacingConcerns,
  minutesMonitored,
  prescriptionUseRefusal,
  vitalSignsAlarm,
  type DoseRecord,
} from '../domain/dosing';
import { AdverseEvent, integrationOutsideWindow, Medication, SessionKind } from '../domain/pathway';
import { Protocol, Route } from '../domain/plans';
import { sessionCompletionRefusal } from '../domain/roles';
import { Clinician, Prescription, ScoreAlert, TreatmentPlan, TreatmentSession } from '../entities';
import { badInput, conflict, forbidden, notFound } from '../errors';
import { parseId } from '../ids';
import type { CourseRecords } from './courses';
import type { PathwayRecords } from './pathway';
import { PerPatient, readTogether } from './perPatient';
import { reach, type AlertRow, type PatientRow } from './rows';
import type { RequestScope } from './scope';

export interface NewSession {
  planId: string;
  kind: SessionKind;
  scheduledAt: Date;
  dosingSessionId?: string | null;
}

/** A dose as the prescriber records it: the clinical record the domain checks, and where it was given. */
export interface DosingRecord extends DoseRecord {
  sessionId: string;
  prescriptionId: string;
  lotNumber: string;
  adverseEvents: AdverseEvent[];
  doseSpacingOverrideReason?: string | null;
}

/** Doses this close to a new one can affect its spacing rules (seven days for esketamine). */
const SPACING_HORIZON_MS = 7 * 24 * 60 * 60 * 1000;

/** Sessions of a patient's treatment plans. */
export class SessionRecords {
  private readonly ofPatients = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        TreatmentSession,
        this.scope.em
          .createQueryBuilder(TreatmentSession)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy({ scheduledAt: 'asc', id: 'asc' }),
      ),
    (session) => session.patient.id,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly pathway: PathwayRecords,
    private readonly courses: CourseRecords,
    private readonly dosing: DosingSettings,
  ) {}

  async schedule(input: NewSession): Promise<TreatmentSession> {
    this.access.requireRole('scheduleSessions');
    const planId = parseId(input.planId, 'planId');
    const dosingId = input.dosingSessionId ? parseId(input.dosingSessionId, 'dosingSessionId') : undefined;
    if (dosingId && input.kind !== SessionKind.INTEGRATION)
      throw badInput('only an integration session refers to a dosing session');
    const refusal = scheduledAtRefusal('scheduledAt', input.scheduledAt, { now: new Date() });
    if (refusal) throw badInput(refusal);
    return this.scope.write(async (em) => {
      const plan = await em.findOne(TreatmentPlan, { id: planId });
      if (!plan) throw notFound('No treatment plan with that id');
      const patient = await this.access.requirePatient(em, plan.patient.id, { lock: true });
      const course =
        input.kind === SessionKind.DOSING
          ? await this.pathway.requireTreatable(em, patient, 'cannot schedule a dosing session')
          : await this.courses.current(em, patient.id);
      if (plan.course.id !== course.id)
        throw conflict(
          'that plan belongs to an earlier course of treatment; create a plan for the current course',
        );
      let dosing: TreatmentSession | undefined;
      if (dosingId) {
        dosing =
          (await em.findOne(TreatmentSession, { id: dosingId, plan: planId, kind: SessionKind.DOSING })) ??
          undefined;
        if (!dosing) throw badInput('dosingSessionId must name a dosing session of the same plan');
      }
      const session = em.create(TreatmentSession, {
        patient,
        course,
        plan,
        kind: input.kind,
        scheduledAt: input.scheduledAt,
        dosingSession: dosing,
        scheduledBy: this.scope.clinician.id,
      });
      await em.flush();
      this.scope.audit({
        action: 'session.create',
        patientId: patient.id,
        entity: 'TreatmentSession',
        entityId: session.id,
      });
      return session;
    });
  }

  /**
   * PRESCRIBER only: the administration record of a dose (Schedule III: who, what, how much, when,
   * lot, under which prescription), checked at the moment of dosing against the prescription, the
   * current course and the patient's other doses. Vital signs out of range raise a VITAL_SIGNS alert
   * in the same transaction.
   */
  async completeDosing(input: DosingRecord): Promise<TreatmentSession> {
    this.requireRole(SessionKind.DOSING);
    const sessionId = parseId(input.sessionId, 'sessionId');
    const prescriptionId = parseId(input.prescriptionId, 'prescriptionId');
    const lotNumber = input.lotNumber.trim();
    if (lotNumber.length === 0 || lotNumber.length > 64)
      throw badInput('lotNumber must be 1 to 64 characters');
    const spacingReason = optionalReason(input.doseSpacingOverrideReason, 'doseSpacingOverrideReason');
    const bloodPressureReason = optionalReason(
      input.bloodPressureOverrideReason,
      'bloodPressureOverrideReason',
    );
    return this.scope.write(async (em) => {
      const session = await this.openSession(em, sessionId, SessionKind.DOSING);
      const patient = (await session.patient.load())!;
      const prescription = await em.findOne(Prescription, { id: prescriptionId, patient: patient.id });
      if (!prescription) throw badInput("prescriptionId must name one of this patient's prescriptions");
      const problem = doseRecordProblem(
        { ...input, bloodPressureOverrideReason: bloodPressureReason },
        {
          medication: prescription.medication,
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- a numeric column arrives as a string
          prescribedDoseMg: Number(prescription.doseMg),
          scheduledAt: session.scheduledAt,
          now: new Date(),
          bornOn: patient.dateOfBirth,
          ketamineMinMonitoringMinutes: this.dosing.ketamineMinMonitoringMinutes,
        },
      );
      if (problem) throw badInput(problem);
      const plan = await em.findOneOrFail(TreatmentPlan, { id: session.plan.id });
      if (plan.route !== prescription.route)
        throw badInput(
          `the plan is for the ${plan.route} route; the prescription is for ${prescription.route}`,
        );

      const course = await this.pathway.requireTreatable(em, patient, 'cannot dose');
      if (session.course.id !== course.id)
        throw conflict('that dosing session belongs to an earlier course of treatment');
      const administrations = await em.count(TreatmentSession, {
        prescription: prescription.id,
        kind: SessionKind.DOSING,
        completedAt: { $ne: null },
      });
      const unusable = prescriptionUseRefusal(
        {
          prescribedAt: prescription.prescribedAt,
          quantity: prescription.quantity,
          refills: prescription.refills,
          voided: !!prescription.voidedAt,
          administrations,
        },
        input.administeredAt,
      );
      if (unusable) throw conflict(unusable);
      const at = input.administeredAt.getTime();
      const nearby = await em.find(TreatmentSession, {
        patient: patient.id,
        kind: SessionKind.DOSING,
        id: { $ne: session.id },
        administeredAt: { $gt: new Date(at - SPACING_HORIZON_MS), $lt: new Date(at + SPACING_HORIZON_MS) },
      });
      const concerns = doseSpacingConcerns(
        { administeredAt: input.administeredAt, medication: prescription.medication },
        nearby.map((d) => ({
          administeredAt: d.administeredAt!,
          medication: d.route === Route.INTRANASAL_ESKETAMINE ? Medication.ESKETAMINE : Medication.KETAMINE,
        })),
      );
      if (concerns.length > 0 && !spacingReason)
        throw conflict(
          `${concerns.join('; ')}: give the prescriber's reason to override (doseSpacingOverrideReason)`,
        );

      const me = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
      Object.assign(session, {
        completedAt: new Date(),
        completedBy: me,
        administeredAt: input.administeredAt,
        administeredBy: me,
        prescription: ref(prescription),
        route: prescription.route,
        doseMg: input.doseMg,
        lotNumber,
        systolicBefore: input.before.systolic,
        diastolicBefore: input.before.diastolic,
        heartRateBefore: input.before.heartRate ?? undefined,
        oxygenSaturationBefore: input.before.oxygenSaturation ?? undefined,
        systolicAfter: input.after.systolic,
        diastolicAfter: input.after.diastolic,
        heartRateAfter: input.after.heartRate ?? undefined,
        oxygenSaturationAfter: input.after.oxygenSaturation ?? undefined,
        systolicAtDischarge: input.atDischarge.systolic,
        diastolicAtDischarge: input.atDischarge.diastolic,
        heartRateAtDischarge: input.atDischarge.heartRate ?? undefined,
        oxygenSaturationAtDischarge: input.atDischarge.oxygenSaturation ?? undefined,
        dischargedAt: input.dischargedAt,
        fitToLeaveAttested: input.fitToLeave,
        minutesMonitored: minutesMonitored(input),
        adverseEvents: [...new Set(input.adverseEvents)],
        bloodPressureOverrideReason: bloodPressureReason,
        doseSpacingOverrideReason: spacingReason,
      });
      const alarm = vitalSignsAlarm(input);
      const alert = alarm
        ? em.create(ScoreAlert, {
            patient,
            course,
            session,
            kind: AlertKind.VITAL_SIGNS,
            level: AlertLevel.CRITICAL,
            message: alarm,
          })
        : undefined;
      // The alert is announced by the database as it is inserted (scoreAlert), at commit.
      await em.flush();
      this.scope.audit(
        {
          action: 'dose.administer',
          patientId: patient.id,
          entity: 'TreatmentSession',
          entityId: session.id,
        },
        ...(alert
          ? [
              {
                action: 'alert.create' as const,
                patientId: patient.id,
                entity: 'ScoreAlert',
                entityId: alert.id,
              },
            ]
          : []),
      );
      return session;
    });
  }

  /** The dosing session whose vital signs raised an alert the caller already reached. */
  async ofAlert(alert: AlertRow): Promise<TreatmentSession | null> {
    const session = alert.session ? await reach(this.scope, TreatmentSession, alert.session) : null;
    if (session) this.auditRead([session]);
    return session;
  }

  /** Preparation and integration by the therapist, follow-up by either. */
  async complete(sessionId: string): Promise<TreatmentSession> {
    const id = parseId(sessionId, 'sessionId');
    return this.scope.write(async (em) => {
      const session = await this.openSession(em, id);
      if (session.kind === SessionKind.DOSING)
        throw badInput('a dosing session is completed with completeDosingSession, which records the dose');
      this.requireRole(session.kind);
      session.completedAt = new Date();
      session.completedBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
      await em.flush();
      this.scope.audit({
        action: 'session.complete',
        patientId: session.patient.id,
        entity: 'TreatmentSession',
        entityId: session.id,
      });
      return session;
    });
  }

  /** In scheduled order; the patients of a page in one statement. */
  async forPatient(patient: PatientRow): Promise<TreatmentSession[]> {
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
    return integrationOutsideWindow(
      dosing.administeredAt ?? dosing.scheduledAt,
      session.completedAt ?? session.scheduledAt,
    );
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
    const refusal = sessionCompletionRefusal(this.scope.clinician.role, kind);
    if (refusal) throw forbidden(refusal);
  }

  private auditRead(rows: TreatmentSession[]) {
    this.scope.audit(
      ...rows.map((s) => ({
        action: READ_ACTION.TreatmentSession,
        patientId: s.patient.id,
        entity: 'TreatmentSession',
        entityId: s.id,
      })),
    );
  }
}

/** An override reason, when given: 3 to 500 characters once trimmed. */
function optionalReason(reason: string | null | undefined, field: string): string | undefined {
  if (reason === undefined || reason === null) return undefined;
  const why = reason.trim();
  if (why.length < 3 || why.length > 500) throw badInput(`${field} must be 3 to 500 characters`);
  return why;
}
