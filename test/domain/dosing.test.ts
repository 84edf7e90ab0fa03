import { describe, expect, it } from 'vitest';
import {
  doseRecordProblem,
  doseSpacingConcerns,
  minutesMonitored,
  prescriptionUsableUntil,
  prescriptionUseRefusal,
  vitalSignsAlarm,
  type DoseContext,
  type DoseRecord,
} from '../../src/domain/dosing';
import { Medication } from '../../src/domain/pathway';

// Pure rules take their instants as arguments: a fixed clock here compares nothing with today.
const now = new Date('2026-06-15T12:00:00Z');
const at = (minutesFromNow: number) => new Date(now.getTime() + minutesFromNow * 60_000);
const HOURS = 60;
const DAYS = 24 * HOURS;

const ketamine: DoseContext = {
  medication: Medication.KETAMINE,
  prescribedDoseMg: 40,
  scheduledAt: at(-3 * HOURS),
  now,
  ketamineMinMonitoringMinutes: 60,
};
const esketamine: DoseContext = { ...ketamine, medication: Medication.ESKETAMINE, prescribedDoseMg: 84 };
const normal = { systolic: 130, diastolic: 80, heartRate: 72, oxygenSaturation: 98 };
const dose: DoseRecord = {
  doseMg: 40,
  administeredAt: at(-2 * HOURS),
  before: normal,
  after: normal,
  atDischarge: normal,
  dischargedAt: at(-30),
  fitToLeave: true,
};

describe('a dose record that can never stand (BAD_USER_INPUT)', () => {
  it.each<[string, Partial<DoseRecord>, DoseContext, string | undefined]>([
    ['a complete ketamine record', {}, ketamine, undefined],
    ['more than prescribed', { doseMg: 40.5 }, ketamine, 'more than the prescribed 40'],
    ['esketamine 30 mg', { doseMg: 30 }, esketamine, '28, 56, 84'],
    ['esketamine 56 mg', { doseMg: 56, dischargedAt: at(0) }, esketamine, undefined],
    ['esketamine 84 mg', { doseMg: 84, dischargedAt: at(0) }, esketamine, undefined],
    ['esketamine 112 mg', { doseMg: 112 }, { ...esketamine, prescribedDoseMg: 112 }, '28, 56, 84'],
    [
      'given in the future',
      { administeredAt: at(2), dischargedAt: at(90) },
      ketamine,
      'administeredAt cannot be in the future',
    ],
    [
      'given before the patient was born',
      { administeredAt: at(-3 * HOURS) },
      { ...ketamine, scheduledAt: at(-4 * HOURS), bornOn: '2026-06-16' },
      "before the patient's date of birth",
    ],
    [
      'given before the session was scheduled',
      { administeredAt: at(-3 * HOURS - 1) },
      ketamine,
      'before the session was scheduled',
    ],
    ['given at the scheduled time', { administeredAt: at(-3 * HOURS) }, ketamine, undefined],
    ['discharged in the future', { dischargedAt: at(5) }, ketamine, 'dischargedAt cannot be in the future'],
    ['discharged within the minute of clock skew', { dischargedAt: at(0.5) }, ketamine, undefined],
    [
      'discharged before the dose',
      { dischargedAt: at(-3 * HOURS) },
      { ...ketamine, scheduledAt: at(-4 * HOURS) },
      'before administeredAt',
    ],
    [
      'ketamine monitored 59 minutes',
      { dischargedAt: at(-61) },
      ketamine,
      'racemic ketamine needs at least 60 minutes',
    ],
    ['ketamine monitored 60 minutes', { dischargedAt: at(-60) }, ketamine, undefined],
    [
      'ketamine, clinic minimum 90, monitored 89',
      { dischargedAt: at(-31) },
      { ...ketamine, ketamineMinMonitoringMinutes: 90 },
      'at least 90 minutes',
    ],
    [
      'esketamine monitored 119 minutes',
      { doseMg: 56, dischargedAt: at(-1) },
      esketamine,
      'intranasal esketamine needs at least 120 minutes',
    ],
    ['not attested fit to leave', { fitToLeave: false }, ketamine, 'fit to leave'],
    [
      'pre-dose 181/90 without a reason',
      { before: { systolic: 181, diastolic: 90 } },
      ketamine,
      'hold the dose',
    ],
    [
      'pre-dose 170/101 without a reason',
      { before: { systolic: 170, diastolic: 101 } },
      ketamine,
      'hold the dose',
    ],
    ['pre-dose 180/100', { before: { systolic: 180, diastolic: 100 } }, ketamine, undefined],
    [
      'pre-dose 190/105 with a reason',
      {
        before: { systolic: 190, diastolic: 105 },
        bloodPressureOverrideReason: 'baseline 185/100 for years; cardiology cleared',
      },
      ketamine,
      undefined,
    ],
    [
      'pre-dose 190/105, blank reason',
      { before: { systolic: 190, diastolic: 105 }, bloodPressureOverrideReason: '  ' },
      ketamine,
      'hold the dose',
    ],
    ['heart rate 300', { after: { ...normal, heartRate: 300 } }, ketamine, 'after the dose: heart rate'],
    [
      'oxygen saturation 101',
      { atDischarge: { ...normal, oxygenSaturation: 101 } },
      ketamine,
      'at discharge: oxygen saturation',
    ],
    [
      'diastolic above systolic',
      { before: { systolic: 80, diastolic: 90 } },
      ketamine,
      'before the dose: diastolic',
    ],
    [
      'heart rate and saturation not measured',
      { before: { systolic: 120, diastolic: 80 } },
      ketamine,
      undefined,
    ],
  ])('%s', (_name, change, context, problem) => {
    const found = doseRecordProblem({ ...dose, ...change }, context);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('counts monitoring in whole minutes from the dose to discharge', () => {
    expect(minutesMonitored({ administeredAt: at(-100), dischargedAt: at(-0.5) })).toBe(99);
  });
});

describe('using a prescription (CONFLICT)', () => {
  const written = new Date('2026-01-10T09:00:00Z');
  const use = { prescribedAt: written, quantity: 1, refills: 0, voided: false, administrations: 0 };
  it.each<[string, Partial<typeof use>, Date, string | undefined]>([
    ['the first dose of quantity 1', {}, new Date('2026-01-11T09:00:00Z'), undefined],
    [
      'a second dose of quantity 1',
      { administrations: 1 },
      new Date('2026-01-11T09:00:00Z'),
      'used up: 1 of 1',
    ],
    [
      'the sixth dose of quantity 2 with 2 refills',
      { quantity: 2, refills: 2, administrations: 5 },
      new Date('2026-01-11T09:00:00Z'),
      undefined,
    ],
    [
      'the seventh dose of quantity 2 with 2 refills',
      { quantity: 2, refills: 2, administrations: 6 },
      new Date('2026-01-11T09:00:00Z'),
      'used up: 6 of 6',
    ],
    ['a void prescription', { voided: true }, new Date('2026-01-11T09:00:00Z'), 'void'],
    ['six months to the minute', {}, new Date('2026-07-10T09:00:00Z'), undefined],
    ['six months and a minute', {}, new Date('2026-07-10T09:01:00Z'), 'more than 6 months'],
  ])('%s', (_name, change, when, problem) => {
    const found = prescriptionUseRefusal({ ...use, ...change }, when);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
  it.each([
    ['2026-01-10T09:00:00Z', '2026-07-10T09:00:00.000Z'],
    ['2026-08-31T12:00:00Z', '2027-02-28T12:00:00.000Z'],
    ['2027-08-31T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['2026-12-31T23:30:00Z', '2027-06-30T23:30:00.000Z'],
  ])('written %s is usable until %s', (writtenAt, until) =>
    expect(prescriptionUsableUntil(new Date(writtenAt)).toISOString()).toBe(until),
  );
});

describe('dose spacing (CONFLICT without an override reason)', () => {
  const k = (minutes: number) => ({ administeredAt: at(minutes), medication: Medication.KETAMINE });
  const e = (minutes: number) => ({ administeredAt: at(minutes), medication: Medication.ESKETAMINE });
  it.each<[string, ReturnType<typeof k>, ReturnType<typeof k>[], string[]]>([
    ['the first dose', k(0), [], []],
    ['24 hours after another', k(0), [k(-24 * HOURS)], []],
    ['23 hours 59 minutes after another', k(0), [k(-24 * HOURS + 1)], ['less than 24']],
    ['entered late, 2 hours before a later dose', k(0), [k(2 * HOURS)], ['less than 24']],
    ['a second esketamine dose in 7 days', e(0), [e(-3.5 * DAYS)], []],
    [
      'a third esketamine dose in 7 days',
      e(0),
      [e(-3.5 * DAYS), e(-6 * DAYS)],
      ['more than 2 esketamine doses within 7 days'],
    ],
    ['twice weekly: the third dose exactly 7 days after the first', e(0), [e(-3 * DAYS), e(-7 * DAYS)], []],
    [
      'a third esketamine dose between two others',
      e(0),
      [e(-3 * DAYS), e(3 * DAYS)],
      ['more than 2 esketamine doses'],
    ],
    ['three ketamine doses in 7 days', k(0), [k(-3 * DAYS), k(-6 * DAYS)], []],
    ['esketamine after ketamine doses', e(0), [k(-2 * DAYS), k(-4 * DAYS)], []],
    ['esketamine the same day as another', e(0), [e(-6 * HOURS)], ['less than 24']],
  ])('%s', (_name, next, others, expected) => {
    const found = doseSpacingConcerns(next, others);
    expect(found).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(found[i]).toContain(text));
  });
});

describe('the VITAL_SIGNS alert', () => {
  it.each<[string, Partial<DoseRecord>, string | undefined]>([
    ['all normal', {}, undefined],
    ['post-dose 181/90', { after: { systolic: 181, diastolic: 90 } }, 'blood pressure 181/90 after the dose'],
    ['post-dose 180/100', { after: { systolic: 180, diastolic: 100 } }, undefined],
    [
      'discharge 150/101',
      { atDischarge: { systolic: 150, diastolic: 101 } },
      'blood pressure 150/101 at discharge',
    ],
    [
      'pre-dose 190/105 only (held or overridden, not an alert)',
      { before: { systolic: 190, diastolic: 105 } },
      undefined,
    ],
    [
      'oxygen saturation 89 after',
      { after: { ...normal, oxygenSaturation: 89 } },
      'oxygen saturation 89 % after the dose',
    ],
    ['oxygen saturation 90', { after: { ...normal, oxygenSaturation: 90 } }, undefined],
    [
      'oxygen saturation 88 before',
      { before: { ...normal, oxygenSaturation: 88 } },
      'oxygen saturation 88 % before the dose',
    ],
  ])('%s', (_name, change, finding) => {
    const found = vitalSignsAlarm({ ...dose, ...change });
    if (finding === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(finding);
  });
  it('names every finding in one message', () => {
    const found = vitalSignsAlarm({
      ...dose,
      after: { systolic: 200, diastolic: 115, oxygenSaturation: 86 },
      atDischarge: { systolic: 185, diastolic: 95 },
    });
    expect(found).toContain('200/115 after the dose');
    expect(found).toContain('185/95 at discharge');
    expect(found).toContain('86 % after the dose');
  });
});
