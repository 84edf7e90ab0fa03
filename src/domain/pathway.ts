import { PatientStatus } from './patientStatus';
import { Route } from './plans';

/**
 * The care pathway (CLINICAL.md, "Care pathway"): screening, consent, prescribing. Pure rules; the
 * records in src/records apply them inside the transactions that store what they decide.
 */

/**
 * Absolute contraindications to ketamine/esketamine checked at screening (CLINICAL.md, "Care pathway"
 * and "Courses and dosing safety"). Any one of them rules out ELIGIBLE. Unstable cardiovascular
 * disease is recorded as what it is (a recent myocardial infarction, unstable angina, heart failure),
 * and raised intracranial and intraocular pressure apart, so the record says which.
 */
export enum Contraindication {
  ANEURYSMAL_VASCULAR_DISEASE_OR_AVM = 'ANEURYSMAL_VASCULAR_DISEASE_OR_AVM',
  INTRACEREBRAL_HAEMORRHAGE_HISTORY = 'INTRACEREBRAL_HAEMORRHAGE_HISTORY',
  UNCONTROLLED_HYPERTENSION = 'UNCONTROLLED_HYPERTENSION',
  PREGNANCY = 'PREGNANCY',
  BREASTFEEDING = 'BREASTFEEDING',
  ACTIVE_PSYCHOSIS = 'ACTIVE_PSYCHOSIS',
  PSYCHOSIS_OR_SCHIZOPHRENIA_HISTORY = 'PSYCHOSIS_OR_SCHIZOPHRENIA_HISTORY',
  CURRENT_MANIA = 'CURRENT_MANIA',
  ACTIVE_SUBSTANCE_USE_DISORDER = 'ACTIVE_SUBSTANCE_USE_DISORDER',
  HYPERSENSITIVITY = 'HYPERSENSITIVITY',
  SEVERE_HEPATIC_IMPAIRMENT = 'SEVERE_HEPATIC_IMPAIRMENT',
  RAISED_INTRACRANIAL_PRESSURE = 'RAISED_INTRACRANIAL_PRESSURE',
  RAISED_INTRAOCULAR_PRESSURE = 'RAISED_INTRAOCULAR_PRESSURE',
  RECENT_MYOCARDIAL_INFARCTION = 'RECENT_MYOCARDIAL_INFARCTION',
  UNSTABLE_ANGINA = 'UNSTABLE_ANGINA',
  HEART_FAILURE = 'HEART_FAILURE',
}

export enum EligibilityDecision {
  ELIGIBLE = 'ELIGIBLE',
  INELIGIBLE = 'INELIGIBLE',
  NEEDS_REVIEW = 'NEEDS_REVIEW',
}

export enum Medication {
  KETAMINE = 'KETAMINE',
  ESKETAMINE = 'ESKETAMINE',
}

export interface BloodPressure {
  systolic: number;
  diastolic: number;
}

/** Above this, racemic ketamine is contraindicated (uncontrolled hypertension) and a dose is held. */
export const BLOOD_PRESSURE_LIMIT: BloodPressure = { systolic: 180, diastolic: 100 };

export function aboveLimit(bp: BloodPressure): boolean {
  return bp.systolic > BLOOD_PRESSURE_LIMIT.systolic || bp.diastolic > BLOOD_PRESSURE_LIMIT.diastolic;
}

/** Why a blood pressure reading cannot be real; undefined when it can. */
export function implausibleBloodPressure(bp: BloodPressure): string | undefined {
  const { systolic, diastolic } = bp;
  if (!Number.isInteger(systolic) || systolic < 50 || systolic > 300)
    return 'systolic blood pressure must be a whole number between 50 and 300 mmHg';
  if (!Number.isInteger(diastolic) || diastolic < 20 || diastolic > 200)
    return 'diastolic blood pressure must be a whole number between 20 and 200 mmHg';
  if (diastolic >= systolic) return 'diastolic blood pressure must be below systolic';
  return undefined;
}

/**
 * Why an eligibility assessment is self-contradictory; undefined when it is consistent. ELIGIBLE
 * cannot stand beside an absolute contraindication, nor beside a baseline blood pressure that is
 * itself uncontrolled hypertension.
 */
export function assessmentInconsistency(
  decision: EligibilityDecision,
  contraindications: Contraindication[],
  baseline: BloodPressure,
): string | undefined {
  if (decision !== EligibilityDecision.ELIGIBLE) return undefined;
  if (contraindications.length > 0)
    return `ELIGIBLE cannot be recorded with an absolute contraindication (${contraindications.join(', ')})`;
  if (aboveLimit(baseline))
    return `ELIGIBLE cannot be recorded with a baseline blood pressure above ${BLOOD_PRESSURE_LIMIT.systolic}/${BLOOD_PRESSURE_LIMIT.diastolic} (uncontrolled hypertension)`;
  return undefined;
}

/** Why a patient in `current` cannot be screened (CONFLICT); undefined when they can. */
export function screeningRefusal(current: PatientStatus): string | undefined {
  if (current === PatientStatus.DISCHARGED)
    return 'a discharged patient cannot be screened; refer them again';
  return undefined;
}

/** The status an assessment moves a patient `screeningRefusal` admits to. */
export function statusAfterAssessment(current: PatientStatus, decision: EligibilityDecision): PatientStatus {
  if (current === PatientStatus.ACTIVE || current === PatientStatus.MAINTENANCE) {
    // Re-screening during treatment records the finding without stopping treatment by itself.
    return current;
  }
  switch (decision) {
    case EligibilityDecision.ELIGIBLE:
      return PatientStatus.ELIGIBLE;
    case EligibilityDecision.INELIGIBLE:
      return PatientStatus.INELIGIBLE;
    case EligibilityDecision.NEEDS_REVIEW:
      return PatientStatus.SCREENING;
  }
}

/** What the current course of treatment holds that prescribing, dosing and starting treatment depend on. */
export interface PathwayFacts {
  /** The decision of the current course's latest eligibility assessment, if it has one. */
  latestDecision?: EligibilityDecision;
  /** The current course holds a consent that has not been withdrawn. */
  consented: boolean;
}

/**
 * Why the patient cannot move from `current` to `target` by hand; undefined when they can. Screening
 * outcomes (SCREENING, ELIGIBLE, INELIGIBLE) come only from eligibility assessments.
 */
export function statusChangeRefusal(
  current: PatientStatus,
  target: PatientStatus,
  facts: PathwayFacts,
): string | undefined {
  if (current === target) return `the patient is already ${target}`;
  switch (target) {
    case PatientStatus.REFERRED:
      return current === PatientStatus.DISCHARGED
        ? undefined
        : 'only a discharged patient can be referred again';
    case PatientStatus.SCREENING:
    case PatientStatus.ELIGIBLE:
    case PatientStatus.INELIGIBLE:
      return `${target} follows from an eligibility assessment; record one instead`;
    case PatientStatus.ACTIVE: {
      if (current !== PatientStatus.ELIGIBLE && current !== PatientStatus.MAINTENANCE)
        return `a ${current} patient cannot start treatment: an ELIGIBLE assessment is missing`;
      const missing = missingInCourse(facts);
      return missing ? `treatment cannot start: ${missing}` : undefined;
    }
    case PatientStatus.MAINTENANCE:
      return current === PatientStatus.ACTIVE
        ? undefined
        : 'only a patient in active treatment moves to maintenance';
    case PatientStatus.DISCHARGED:
      return undefined;
  }
}

/** Where on the pathway a patient may be prescribed to and dosed. */
const TREATABLE_STATUSES: readonly PatientStatus[] = [
  PatientStatus.ELIGIBLE,
  PatientStatus.ACTIVE,
  PatientStatus.MAINTENANCE,
];

/**
 * What is missing before a prescription, a dosing session or a dose; undefined when nothing is. Only
 * the current course counts: a new course needs its own screening and consent, and a re-assessment
 * that is not ELIGIBLE stops dosing until an ELIGIBLE one follows.
 */
export function missingBeforeTreatment(status: PatientStatus, facts: PathwayFacts): string | undefined {
  const inCourse = missingInCourse(facts);
  const problems = [
    ...(TREATABLE_STATUSES.includes(status)
      ? []
      : [`the patient is ${status}, not ELIGIBLE, ACTIVE or MAINTENANCE`]),
    ...(inCourse ? [inCourse] : []),
  ];
  return problems.length > 0 ? problems.join('; ') : undefined;
}

function missingInCourse(facts: PathwayFacts): string | undefined {
  const missing = [
    ...(facts.latestDecision === EligibilityDecision.ELIGIBLE
      ? []
      : [
          `an ELIGIBLE eligibility assessment in the current course${facts.latestDecision ? ` (the latest is ${facts.latestDecision})` : ''}`,
        ]),
    ...(facts.consented ? [] : ['an informed consent in the current course that has not been withdrawn']),
  ];
  return missing.length > 0
    ? `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing`
    : undefined;
}

/** Which routes each medication is given by. */
function routeFits(medication: Medication, route: Route): boolean {
  return medication === Medication.ESKETAMINE
    ? route === Route.INTRANASAL_ESKETAMINE
    : route !== Route.INTRANASAL_ESKETAMINE;
}

/** Federal law: a Schedule III prescription may be refilled at most five times. */
const MAX_REFILLS = 5;
/** Esketamine nasal spray comes as 28 mg devices; a session's dose is one, two or three. */
export const ESKETAMINE_DOSES_MG = [28, 56, 84] as const;
/** A generous ceiling that catches unit mistakes (µg for mg) rather than deciding dosing. */
const MAX_KETAMINE_DOSE_MG = 500;

/** Why a prescription is malformed; undefined when it is well-formed. */
export function prescriptionProblem(p: {
  medication: Medication;
  route: Route;
  doseMg: number;
  quantity: number;
  refills: number;
}): string | undefined {
  if (!routeFits(p.medication, p.route)) return `${p.medication} is not given by the ${p.route} route`;
  if (!Number.isFinite(p.doseMg) || p.doseMg <= 0) return 'doseMg must be a positive number of milligrams';
  if (
    p.medication === Medication.ESKETAMINE &&
    !(ESKETAMINE_DOSES_MG as readonly number[]).includes(p.doseMg)
  )
    return `esketamine doses are ${ESKETAMINE_DOSES_MG.join(', ')} mg`;
  if (p.medication === Medication.KETAMINE && p.doseMg > MAX_KETAMINE_DOSE_MG)
    return `a ketamine dose above ${MAX_KETAMINE_DOSE_MG} mg is not plausible; check the unit`;
  if (!Number.isInteger(p.quantity) || p.quantity < 1 || p.quantity > 100)
    return 'quantity must be a whole number between 1 and 100';
  if (!Number.isInteger(p.refills) || p.refills < 0 || p.refills > MAX_REFILLS)
    return `refills must be between 0 and ${MAX_REFILLS} (Schedule III)`;
  return undefined;
}

export enum SessionKind {
  PREPARATION = 'PREPARATION',
  DOSING = 'DOSING',
  INTEGRATION = 'INTEGRATION',
  FOLLOW_UP = 'FOLLOW_UP',
}

export enum AdverseEvent {
  SEDATION = 'SEDATION',
  DISSOCIATION = 'DISSOCIATION',
  NAUSEA = 'NAUSEA',
  RAISED_BLOOD_PRESSURE = 'RAISED_BLOOD_PRESSURE',
}

const HOUR = 60 * 60 * 1000;

/**
 * Under SEPARATE_DAY the integration session falls one to two days after its dosing session. Read as
 * elapsed time, whatever the clinic's time zone: from 24 hours up to (not including) 72 hours, so
 * "the day after" and "two days after" both count at any hour of the day.
 */
export function integrationOutsideWindow(dosingAt: Date, integrationAt: Date): boolean {
  const elapsed = integrationAt.getTime() - dosingAt.getTime();
  return elapsed < 24 * HOUR || elapsed >= 72 * HOUR;
}
