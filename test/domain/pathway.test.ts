import { describe, expect, it } from 'vitest';
import {
  aboveLimit,
  assessmentInconsistency,
  Contraindication,
  EligibilityDecision,
  integrationOutsideWindow,
  implausibleBloodPressure,
  Medication,
  missingBeforeTreatment,
  prescriptionProblem,
  screeningRefusal,
  statusAfterAssessment,
  statusChangeRefusal,
} from '../../src/domain/pathway';
import { PatientStatus as S } from '../../src/domain/patientStatus';
import { Route } from '../../src/domain/plans';

describe('blood pressure', () => {
  it.each([
    [180, 100, false],
    [181, 100, true],
    [180, 101, true],
    [120, 80, false],
  ])('%i/%i above 180/100: %s', (systolic, diastolic, above) =>
    expect(aboveLimit({ systolic, diastolic })).toBe(above),
  );
  it.each([
    [120, 80, undefined],
    [49, 30, 'systolic'],
    [301, 80, 'systolic'],
    [120, 19, 'diastolic'],
    [120.5, 80, 'systolic'],
    [90, 95, 'below systolic'],
  ])('%s/%s implausible: %s', (systolic, diastolic, problem) => {
    const found = implausibleBloodPressure({ systolic, diastolic });
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('eligibility assessments', () => {
  const ok = { systolic: 130, diastolic: 85 };
  it.each([
    [EligibilityDecision.ELIGIBLE, [], ok, undefined],
    [EligibilityDecision.ELIGIBLE, [Contraindication.PREGNANCY], ok, 'PREGNANCY'],
    [EligibilityDecision.ELIGIBLE, [], { systolic: 181, diastolic: 90 }, '180/100'],
    [EligibilityDecision.INELIGIBLE, [Contraindication.PREGNANCY], ok, undefined],
    [
      EligibilityDecision.NEEDS_REVIEW,
      [Contraindication.ACTIVE_PSYCHOSIS],
      { systolic: 190, diastolic: 110 },
      undefined,
    ],
  ])('%s with %j at %j', (decision, contraindications, bp, problem) => {
    const found = assessmentInconsistency(decision, contraindications, bp);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it.each([
    [S.REFERRED, EligibilityDecision.ELIGIBLE, S.ELIGIBLE],
    [S.REFERRED, EligibilityDecision.NEEDS_REVIEW, S.SCREENING],
    [S.SCREENING, EligibilityDecision.INELIGIBLE, S.INELIGIBLE],
    [S.INELIGIBLE, EligibilityDecision.ELIGIBLE, S.ELIGIBLE],
    [S.ELIGIBLE, EligibilityDecision.NEEDS_REVIEW, S.SCREENING],
    [S.ACTIVE, EligibilityDecision.INELIGIBLE, S.ACTIVE],
    [S.MAINTENANCE, EligibilityDecision.ELIGIBLE, S.MAINTENANCE],
  ])('from %s, %s gives %s', (from, decision, to) => expect(statusAfterAssessment(from, decision)).toBe(to));
  it('refuses screening a discharged patient', () =>
    expect(screeningRefusal(S.DISCHARGED)).toMatch(/refer them again/));
  it.each(Object.values(S).filter((s) => s !== S.DISCHARGED))('admits screening a %s patient', (status) =>
    expect(screeningRefusal(status)).toBeUndefined(),
  );
});

describe('every absolute contraindication rules out ELIGIBLE', () => {
  it.each(Object.values(Contraindication))('%s', (contraindication) => {
    const normal = { systolic: 120, diastolic: 78 };
    expect(assessmentInconsistency(EligibilityDecision.ELIGIBLE, [contraindication], normal)).toContain(
      contraindication,
    );
    expect(
      assessmentInconsistency(EligibilityDecision.INELIGIBLE, [contraindication], normal),
    ).toBeUndefined();
  });
  it('knows the contraindications CLINICAL.md lists', () => {
    expect(Object.values(Contraindication).sort()).toEqual(
      [
        'ANEURYSMAL_VASCULAR_DISEASE_OR_AVM',
        'INTRACEREBRAL_HAEMORRHAGE_HISTORY',
        'UNCONTROLLED_HYPERTENSION',
        'PREGNANCY',
        'BREASTFEEDING',
        'ACTIVE_PSYCHOSIS',
        'PSYCHOSIS_OR_SCHIZOPHRENIA_HISTORY',
        'CURRENT_MANIA',
        'ACTIVE_SUBSTANCE_USE_DISORDER',
        'HYPERSENSITIVITY',
        'SEVERE_HEPATIC_IMPAIRMENT',
        'RAISED_INTRACRANIAL_PRESSURE',
        'RAISED_INTRAOCULAR_PRESSURE',
        'RECENT_MYOCARDIAL_INFARCTION',
        'UNSTABLE_ANGINA',
        'HEART_FAILURE',
      ].sort(),
    );
  });
});

describe('status changes by hand', () => {
  const ready = { latestDecision: EligibilityDecision.ELIGIBLE, consented: true };
  it.each([
    [S.ELIGIBLE, S.ACTIVE, ready, undefined],
    [S.ELIGIBLE, S.ACTIVE, { ...ready, consented: false }, 'informed consent in the current course'],
    [
      S.ELIGIBLE,
      S.ACTIVE,
      { consented: false },
      'an ELIGIBLE eligibility assessment in the current course and an informed consent',
    ],
    [
      S.ELIGIBLE,
      S.ACTIVE,
      { latestDecision: EligibilityDecision.NEEDS_REVIEW, consented: true },
      '(the latest is NEEDS_REVIEW)',
    ],
    [S.SCREENING, S.ACTIVE, ready, 'ELIGIBLE assessment is missing'],
    [S.REFERRED, S.ACTIVE, ready, 'ELIGIBLE assessment is missing'],
    [S.ACTIVE, S.MAINTENANCE, ready, undefined],
    [S.ELIGIBLE, S.MAINTENANCE, ready, 'active treatment'],
    [S.MAINTENANCE, S.ACTIVE, ready, undefined],
    [S.ACTIVE, S.DISCHARGED, ready, undefined],
    [S.REFERRED, S.DISCHARGED, ready, undefined],
    [S.DISCHARGED, S.REFERRED, ready, undefined],
    [S.ACTIVE, S.REFERRED, ready, 'discharged'],
    [S.REFERRED, S.ELIGIBLE, ready, 'eligibility assessment'],
    [S.REFERRED, S.SCREENING, ready, 'eligibility assessment'],
    [S.ACTIVE, S.ACTIVE, ready, 'already'],
  ])('%s → %s with %j', (from, to, facts, problem) => {
    const found = statusChangeRefusal(from, to, facts);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('what prescribing and dosing need in the current course', () => {
  const ready = { latestDecision: EligibilityDecision.ELIGIBLE, consented: true };
  it.each([
    [S.ELIGIBLE, ready, undefined],
    [S.ACTIVE, ready, undefined],
    [S.MAINTENANCE, ready, undefined],
    [S.DISCHARGED, ready, 'the patient is DISCHARGED, not ELIGIBLE, ACTIVE or MAINTENANCE'],
    [S.REFERRED, ready, 'the patient is REFERRED'],
    [S.SCREENING, ready, 'the patient is SCREENING'],
    [S.INELIGIBLE, ready, 'the patient is INELIGIBLE'],
    [
      S.ACTIVE,
      { ...ready, latestDecision: EligibilityDecision.INELIGIBLE },
      'an ELIGIBLE eligibility assessment in the current course (the latest is INELIGIBLE) is missing',
    ],
    [
      S.ACTIVE,
      { ...ready, latestDecision: undefined },
      'an ELIGIBLE eligibility assessment in the current course is missing',
    ],
    [
      S.ACTIVE,
      { ...ready, consented: false },
      'an informed consent in the current course that has not been withdrawn is missing',
    ],
    [
      S.REFERRED,
      { consented: false },
      'the patient is REFERRED, not ELIGIBLE, ACTIVE or MAINTENANCE; an ELIGIBLE eligibility assessment in the current course and an informed consent',
    ],
  ])('%s with %j', (status, facts, problem) => {
    const found = missingBeforeTreatment(status, facts);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('prescriptions', () => {
  const base = { medication: Medication.KETAMINE, route: Route.IM, doseMg: 35, quantity: 1, refills: 0 };
  it.each([
    [{}, undefined],
    [{ route: Route.INTRANASAL_ESKETAMINE }, 'not given by'],
    [{ medication: Medication.ESKETAMINE, route: Route.IM }, 'not given by'],
    [{ medication: Medication.ESKETAMINE, route: Route.INTRANASAL_ESKETAMINE, doseMg: 56 }, undefined],
    [{ medication: Medication.ESKETAMINE, route: Route.INTRANASAL_ESKETAMINE, doseMg: 50 }, '28, 56, 84'],
    [{ doseMg: 0 }, 'positive'],
    [{ doseMg: 500 }, undefined],
    [{ doseMg: 501 }, 'unit'],
    [{ quantity: 0 }, 'quantity'],
    [{ refills: 5 }, undefined],
    [{ refills: 6 }, 'Schedule III'],
  ])('%j', (change, problem) => {
    const found = prescriptionProblem({ ...base, ...change });
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('the SEPARATE_DAY integration window', () => {
  const dosing = new Date('2026-11-02T10:00:00Z');
  it.each([
    [23.99, true],
    [24, false],
    [47, false],
    [71.99, false],
    [72, true],
    [-2, true],
  ])('%f hours after the dose: flagged %s', (hours, flagged) =>
    expect(integrationOutsideWindow(dosing, new Date(dosing.getTime() + hours * 3_600_000))).toBe(flagged),
  );
});
