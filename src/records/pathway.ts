import type { EntityManager, Ref } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import {
  assessmentInconsistency,
  EligibilityDecision,
  implausibleBloodPressure,
  missingBeforeTreatment,
  prescriptionProblem,
  screeningRefusal,
  statusAfterAssessment,
  statusChangeRefusal,
  type BloodPressure,
  type Contraindication,
  type Medication,
  type PathwayFacts,
} from '../domain/pathway';
import { READ_ACTION } from '../domain/audit';
import { PatientStatus } from '../domain/patientStatus';
import type { Route } from '../domain/plans';
import {
  Clinician,
  Consent,
  EligibilityAssessment,
  Prescription,
  type Patient,
  type TreatmentCourse,
} from '../entities';
import { badInput, conflict, notFound } from '../errors';
import { parseId } from '../ids';
import { parseCalendarDate } from '../entities/scalars';
import type { CourseRecords } from './courses';
import { PerPatient, readTogether } from './perPatient';
import type { PatientRow } from './rows';
import type { RequestScope } from './scope';

export interface NewAssessment {
  patientId: string;
  contraindications: Contraindication[];
  cautions: string[];
  baseline: BloodPressure;
  decision: EligibilityDecision;
}

export interface NewConsent {
  patientId: string;
  textVersion: string;
  consentedOn: string;
  acknowledgesRisks: boolean;
  acknowledgesOffLabelUse: boolean;
  acknowledgesIntegration: boolean;
}

export interface NewPrescription {
  patientId: string;
  medication: Medication;
  route: Route;
  doseMg: number;
  quantity: number;
  refills: number;
}

/** Screening, consent, prescribing and the patient's place on the pathway. */
export class PathwayRecords {
  // Oldest first; the patients of a page in one statement each.
  private readonly assessmentsOf = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        EligibilityAssessment,
        this.scope.em
          .createQueryBuilder(EligibilityAssessment)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy({ assessedAt: 'asc', id: 'asc' }),
      ),
    (row) => row.patient.id,
  );
  private readonly consentsOf = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        Consent,
        this.scope.em
          .createQueryBuilder(Consent)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy({ recordedAt: 'asc', id: 'asc' }),
      ),
    (row) => row.patient.id,
  );
  private readonly prescriptionsOf = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        Prescription,
        this.scope.em
          .createQueryBuilder(Prescription)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy({ prescribedAt: 'asc', id: 'asc' }),
      ),
    (row) => row.patient.id,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly courses: CourseRecords,
  ) {}

  /** PRESCRIBER only. Moves the patient's status as the decision says. */
  async recordAssessment(input: NewAssessment): Promise<EligibilityAssessment> {
    this.access.requireRole('recordEligibility');
    const patientId = parseId(input.patientId, 'patientId');
    const problem =
      implausibleBloodPressure(input.baseline) ??
      assessmentInconsistency(input.decision, input.contraindications, input.baseline);
    if (problem) throw badInput(problem);
    const cautions = input.cautions.map((c) => c.trim()).filter(Boolean);
    if (cautions.some((c) => c.length > 500)) throw badInput('each caution must be at most 500 characters');
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, patientId, { lock: true });
      const refusal = screeningRefusal(patient.status);
      if (refusal) throw conflict(refusal);
      const next = statusAfterAssessment(patient.status, input.decision);
      const assessment = em.create(EligibilityAssessment, {
        patient,
        course: await this.courses.current(em, patientId),
        contraindications: [...new Set(input.contraindications)],
        cautions,
        baselineSystolic: input.baseline.systolic,
        baselineDiastolic: input.baseline.diastolic,
        decision: input.decision,
        assessedBy: this.scope.clinician.id,
      });
      patient.status = next;
      await em.flush();
      this.scope.audit({
        action: 'eligibility.create',
        patientId,
        entity: 'EligibilityAssessment',
        entityId: assessment.id,
      });
      return assessment;
    });
  }

  /** Any clinician on the care team records the consent the patient gave. */
  async recordConsent(input: NewConsent): Promise<Consent> {
    this.access.requireRole('recordConsent');
    const patientId = parseId(input.patientId, 'patientId');
    const textVersion = input.textVersion.trim();
    if (textVersion.length === 0 || textVersion.length > 100)
      throw badInput('textVersion must be 1 to 100 characters');
    const consentedOn = parseCalendarDate(input.consentedOn);
    if (consentedOn > new Date().toISOString().slice(0, 10))
      throw badInput('consentedOn cannot be in the future');
    const missing = [
      ...(input.acknowledgesRisks ? [] : ['the risks']),
      ...(input.acknowledgesOffLabelUse ? [] : ['off-label use']),
      ...(input.acknowledgesIntegration ? [] : ['the role of integration']),
    ];
    if (missing.length > 0)
      throw badInput(`consent needs the patient's acknowledgement of ${missing.join(', ')}`);
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, patientId, { lock: true });
      // A new course needs its own consent, given once the patient is referred again.
      if (patient.status === PatientStatus.DISCHARGED)
        throw conflict('a discharged patient cannot consent to treatment; refer them again first');
      const course = await this.courses.current(em, patientId);
      const consent = em.create(Consent, {
        patient,
        course,
        textVersion,
        consentedOn,
        acknowledgesRisks: true,
        acknowledgesOffLabelUse: true,
        acknowledgesIntegration: true,
        recordedBy: this.scope.clinician.id,
      });
      await em.flush();
      this.scope.audit({ action: 'consent.create', patientId, entity: 'Consent', entityId: consent.id });
      return consent;
    });
  }

  /**
   * Any clinician on the care team records that the patient withdrew a consent, once, with the
   * reason; the consent is kept. No dose follows in its course until a new consent is recorded.
   */
  async withdrawConsent(consentId: string, reason: string): Promise<Consent> {
    this.access.requireRole('withdrawConsent');
    const id = parseId(consentId, 'consentId');
    const why = reasonText(reason);
    return this.scope.write(async (em) => {
      const found = await em.findOne(Consent, { id });
      if (!found) throw notFound('No consent with that id');
      await this.access.requirePatient(em, found.patient.id, { lock: true });
      // Read again under the patient's lock, so two withdrawals cannot both pass the check.
      const consent = await em.refreshOrFail(found);
      if (consent.withdrawnAt) throw conflict('This consent is already withdrawn');
      consent.withdrawnAt = new Date();
      consent.withdrawnBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
      consent.withdrawalReason = why;
      await em.flush();
      this.scope.audit({
        action: 'consent.withdraw',
        patientId: consent.patient.id,
        entity: 'Consent',
        entityId: consent.id,
      });
      return consent;
    });
  }

  /** PRESCRIBER only, and only after an ELIGIBLE assessment and a consent in the current course. */
  async prescribe(input: NewPrescription): Promise<Prescription> {
    this.access.requireRole('prescribe');
    const patientId = parseId(input.patientId, 'patientId');
    const problem = prescriptionProblem(input);
    if (problem) throw badInput(problem);
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, patientId, { lock: true });
      return this.createPrescription(em, patient, input);
    });
  }

  /** PRESCRIBER only: voids a prescription, once, with a reason. */
  async voidPrescription(id: string, reason: string): Promise<Prescription> {
    this.access.requireRole('voidPrescriptions');
    const prescriptionId = parseId(id, 'id');
    const why = reasonText(reason);
    return this.scope.write(async (em) => this.voidLocked(em, prescriptionId, why));
  }

  /** PRESCRIBER only: voids a prescription with a reason and writes its replacement, together. */
  async correctPrescription(
    id: string,
    reason: string,
    input: Omit<NewPrescription, 'patientId'>,
  ): Promise<Prescription> {
    this.access.requireRole('correctPrescriptions');
    const prescriptionId = parseId(id, 'id');
    const why = reasonText(reason);
    const problem = prescriptionProblem(input);
    if (problem) throw badInput(problem);
    return this.scope.write(async (em) => {
      const voided = await this.voidLocked(em, prescriptionId, why);
      const patient = await this.access.requirePatient(em, voided.patient.id, { lock: true });
      return this.createPrescription(em, patient, input, voided);
    });
  }

  /**
   * Moves the patient along the pathway by hand (start, maintenance, discharge, re-referral).
   * DISCHARGED closes the current course with its reason; REFERRED after it opens the next.
   */
  async changeStatus(patientId: string, status: PatientStatus, reason?: string | null): Promise<Patient> {
    this.access.requireRole('changePatientStatus');
    const id = parseId(patientId, 'patientId');
    const why = reason === undefined || reason === null ? undefined : reasonText(reason);
    if (status === PatientStatus.DISCHARGED && why === undefined)
      throw badInput('a discharge needs a reason');
    if (status !== PatientStatus.DISCHARGED && why !== undefined)
      throw badInput('a reason is recorded only with a discharge');
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, id, { lock: true });
      const refusal = statusChangeRefusal(
        patient.status,
        status,
        await this.facts(em, await this.courses.current(em, id)),
      );
      if (refusal) throw conflict(refusal);
      if (status === PatientStatus.DISCHARGED) await this.courses.close(em, patient, why!);
      if (status === PatientStatus.REFERRED) await this.courses.openNext(em, patient);
      this.scope.audit({ action: 'patient.status', patientId: id, entity: 'Patient', entityId: id });
      patient.status = status;
      await em.flush();
      return patient;
    });
  }

  async assessments(patient: PatientRow): Promise<EligibilityAssessment[]> {
    const rows = await this.assessmentsOf.of(patient.id, null);
    this.scope.audit(
      ...rows.map((r) => ({
        action: READ_ACTION.EligibilityAssessment,
        patientId: patient.id,
        entity: 'EligibilityAssessment',
        entityId: r.id,
      })),
    );
    return rows;
  }

  async consents(patient: PatientRow): Promise<Consent[]> {
    const rows = await this.consentsOf.of(patient.id, null);
    this.scope.audit(
      ...rows.map((r) => ({
        action: READ_ACTION.Consent,
        patientId: patient.id,
        entity: 'Consent',
        entityId: r.id,
      })),
    );
    return rows;
  }

  async prescriptions(patient: PatientRow): Promise<Prescription[]> {
    const rows = await this.prescriptionsOf.of(patient.id, null);
    this.auditPrescriptions(rows);
    return rows;
  }

  /**
   * The prescription a record refers to (a dose's, or the one a correction replaces), for a record
   * already reached through the care-team check.
   */
  async referredPrescription(reference: Ref<Prescription> | undefined): Promise<Prescription | null> {
    const prescription = reference ? ((await reference.load()) ?? null) : null;
    if (prescription) this.auditPrescriptions([prescription]);
    return prescription;
  }

  /** What the pathway rules need to know about a course, read in the caller's transaction. */
  async facts(em: EntityManager, course: TreatmentCourse): Promise<PathwayFacts> {
    const latest = await em.findOne(
      EligibilityAssessment,
      { course: course.id },
      { orderBy: { assessedAt: 'desc', id: 'desc' } },
    );
    const consents = await em.count(Consent, { course: course.id, withdrawnAt: null });
    return { latestDecision: latest?.decision, consented: consents > 0 };
  }

  /**
   * The patient's current course, and CONFLICT naming what is missing unless it allows `what` (a
   * prescription, a dosing session, a dose).
   */
  async requireTreatable(em: EntityManager, patient: Patient, what: string): Promise<TreatmentCourse> {
    const course = await this.courses.current(em, patient.id);
    const missing = missingBeforeTreatment(patient.status, await this.facts(em, course));
    if (missing) throw conflict(`${what}: ${missing}`);
    return course;
  }

  private async createPrescription(
    em: EntityManager,
    patient: Patient,
    input: Omit<NewPrescription, 'patientId'>,
    replaces?: Prescription,
  ): Promise<Prescription> {
    const course = await this.requireTreatable(em, patient, 'cannot prescribe');
    const prescription = em.create(Prescription, {
      patient,
      course,
      medication: input.medication,
      route: input.route,
      doseMg: input.doseMg,
      quantity: input.quantity,
      refills: input.refills,
      prescribedBy: this.scope.clinician.id,
      replaces,
    });
    await em.flush();
    this.scope.audit({
      action: 'prescription.create',
      patientId: patient.id,
      entity: 'Prescription',
      entityId: prescription.id,
    });
    return prescription;
  }

  private async voidLocked(em: EntityManager, id: string, reason: string): Promise<Prescription> {
    const prescription = await em.findOne(Prescription, { id });
    if (!prescription) throw notFound('No prescription with that id');
    await this.access.requirePatient(em, prescription.patient.id, { lock: true });
    if (prescription.voidedAt) throw conflict('This prescription is already void');
    prescription.voidedAt = new Date();
    prescription.voidedBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
    prescription.voidReason = reason;
    await em.flush();
    this.scope.audit({
      action: 'prescription.void',
      patientId: prescription.patient.id,
      entity: 'Prescription',
      entityId: prescription.id,
    });
    return prescription;
  }

  private auditPrescriptions(rows: Prescription[]): void {
    this.scope.audit(
      ...rows.map((r) => ({
        action: READ_ACTION.Prescription,
        patientId: r.patient.id,
        entity: 'Prescription',
        entityId: r.id,
      })),
    );
  }
}

function reasonText(reason: string): string {
  const why = reason.trim();
  if (why.length < 3 || why.length > 500) throw badInput('reason must be 3 to 500 characters');
  return why;
}
