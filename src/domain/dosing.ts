import { happenedAtRefusal } from './clinicalTime';
import {
  aboveLimit,
  BLOOD_PRESSURE_LIMIT,
  ESKETAMINE_DOSES_MG,
  implausibleBloodPressure,
  Medication,
  type BloodPressure,
} from './pathway';

/**
 * The rules that guard a dose at the moment it is given (CLINICAL.md, "Courses and dosing safety").
 * Pure; src/records/sessions.ts applies them under the patient's row lock, in the transaction that
 * stores the administration record.
 */

/** Intranasal esketamine: the patient stays under observation at least this long. */
const ESKETAMINE_MIN_MONITORING_MINUTES = 120;
/** Schedule III (21 CFR 1306.22): not filled or refilled more than six months after it was written. */
const PRESCRIPTION_VALID_MONTHS = 6;
/** Two doses closer than this need the prescriber's override reason. */
const MIN_HOURS_BETWEEN_DOSES = 24;
/** More than this many esketamine doses within any `ESKETAMINE_WINDOW_DAYS` need an override reason. */
const MAX_ESKETAMINE_DOSES_IN_WINDOW = 2;
const ESKETAMINE_WINDOW_DAYS = 7;
/** Oxygen saturation below this percentage is a vital-sign alert. */
const OXYGEN_SATURATION_FLOOR = 90;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One set of vital signs: blood pressure always, heart rate and oxygen saturation where measured. */
export interface VitalSigns extends BloodPressure {
  heartRate?: number | null;
  oxygenSaturation?: number | null;
}

/** What the prescriber records about a dose. */
export interface DoseRecord {
  doseMg: number;
  administeredAt: Date;
  before: VitalSigns;
  /** About 40 minutes after the dose. */
  after: VitalSigns;
  atDischarge: VitalSigns;
  dischargedAt: Date;
  fitToLeave: boolean;
  /** The prescriber's reason to dose despite a pre-dose blood pressure above the limit. */
  bloodPressureOverrideReason?: string | null;
}

/** The prescription a dose is given under, and the session it is given in. */
export interface DoseContext {
  medication: Medication;
  prescribedDoseMg: number;
  scheduledAt: Date;
  now: Date;
  /** The patient's date of birth (YYYY-MM-DD). */
  bornOn?: string;
  /** Racemic ketamine's minimum monitoring, set by the clinic. */
  ketamineMinMonitoringMinutes: number;
}

/** Whole minutes from the dose to discharge. */
export function minutesMonitored(dose: Pick<DoseRecord, 'administeredAt' | 'dischargedAt'>): number {
  return Math.floor((dose.dischargedAt.getTime() - dose.administeredAt.getTime()) / MINUTE);
}

function minimumMonitoringMinutes(medication: Medication, ketamineMinMonitoringMinutes: number): number {
  return medication === Medication.ESKETAMINE
    ? ESKETAMINE_MIN_MONITORING_MINUTES
    : ketamineMinMonitoringMinutes;
}

/** Why a reading of vital signs cannot be real; undefined when it can. */
function implausibleVitalSigns(v: VitalSigns, label: string): string | undefined {
  const bp = implausibleBloodPressure(v);
  if (bp) return `${label}: ${bp}`;
  if (
    v.heartRate !== undefined &&
    v.heartRate !== null &&
    (!Number.isInteger(v.heartRate) || v.heartRate < 20 || v.heartRate > 250)
  ) {
    return `${label}: heart rate must be a whole number from 20 to 250 beats per minute`;
  }
  if (
    v.oxygenSaturation !== undefined &&
    v.oxygenSaturation !== null &&
    (!Number.isInteger(v.oxygenSaturation) || v.oxygenSaturation < 50 || v.oxygenSaturation > 100)
  ) {
    return `${label}: oxygen saturation must be a whole number from 50 to 100 %`;
  }
  return undefined;
}

/**
 * Why the dose as recorded can never stand, whatever else the record holds (BAD_USER_INPUT); undefined
 * when it can. Checked against the immutable facts it names: its prescription and its session.
 */
export function doseRecordProblem(dose: DoseRecord, context: DoseContext): string | undefined {
  for (const [reading, label] of [
    [dose.before, 'before the dose'],
    [dose.after, 'after the dose'],
    [dose.atDischarge, 'at discharge'],
  ] as const) {
    const problem = implausibleVitalSigns(reading, label);
    if (problem) return problem;
  }
  if (!Number.isFinite(dose.doseMg) || dose.doseMg <= 0)
    return 'doseMg must be a positive number of milligrams';
  if (
    context.medication === Medication.ESKETAMINE &&
    !(ESKETAMINE_DOSES_MG as readonly number[]).includes(dose.doseMg)
  ) {
    return `esketamine is given in 28 mg devices: ${ESKETAMINE_DOSES_MG.join(', ')} mg, not ${dose.doseMg} mg`;
  }
  if (dose.doseMg > context.prescribedDoseMg)
    return `${dose.doseMg} mg is more than the prescribed ${context.prescribedDoseMg} mg`;
  const when =
    happenedAtRefusal('administeredAt', dose.administeredAt, context) ??
    happenedAtRefusal('dischargedAt', dose.dischargedAt, context);
  if (when) return when;
  if (dose.administeredAt.getTime() < context.scheduledAt.getTime())
    return 'administeredAt cannot be before the session was scheduled';
  if (dose.dischargedAt.getTime() < dose.administeredAt.getTime())
    return 'dischargedAt cannot be before administeredAt';
  const minimum = minimumMonitoringMinutes(context.medication, context.ketamineMinMonitoringMinutes);
  const monitored = minutesMonitored(dose);
  if (monitored < minimum) {
    const what = context.medication === Medication.ESKETAMINE ? 'intranasal esketamine' : 'racemic ketamine';
    return `${what} needs at least ${minimum} minutes of monitoring before discharge (${monitored} from the dose to discharge)`;
  }
  if (!dose.fitToLeave)
    return "the prescriber's attestation that the patient was fit to leave is required to complete the dose";
  if (aboveLimit(dose.before) && !dose.bloodPressureOverrideReason?.trim()) {
    return `pre-dose blood pressure ${dose.before.systolic}/${dose.before.diastolic} is above ${BLOOD_PRESSURE_LIMIT.systolic}/${BLOOD_PRESSURE_LIMIT.diastolic}: hold the dose, or give the prescriber's reason to override`;
  }
  return undefined;
}

/** The last instant a prescription written at `prescribedAt` may be used: six calendar months on. */
export function prescriptionUsableUntil(prescribedAt: Date): Date {
  const until = new Date(prescribedAt.getTime());
  const day = until.getUTCDate();
  until.setUTCDate(1);
  until.setUTCMonth(until.getUTCMonth() + PRESCRIPTION_VALID_MONTHS);
  // 31 August + six months is the end of February, not 3 March.
  const lastDay = new Date(Date.UTC(until.getUTCFullYear(), until.getUTCMonth() + 1, 0)).getUTCDate();
  until.setUTCDate(Math.min(day, lastDay));
  return until;
}

export interface PrescriptionUse {
  prescribedAt: Date;
  quantity: number;
  refills: number;
  voided: boolean;
  /** Doses already given under it. */
  administrations: number;
}

/** Why the prescription cannot be used for this dose now (CONFLICT); undefined when it can. */
export function prescriptionUseRefusal(p: PrescriptionUse, administeredAt: Date): string | undefined {
  if (p.voided) return 'that prescription is void; dose only under an active prescription';
  const allowed = p.quantity * (p.refills + 1);
  if (p.administrations >= allowed)
    return `that prescription is used up: ${p.administrations} of ${allowed} administrations (quantity ${p.quantity} × ${p.refills + 1} fills)`;
  if (administeredAt.getTime() > prescriptionUsableUntil(p.prescribedAt).getTime()) {
    return `that prescription was written more than ${PRESCRIPTION_VALID_MONTHS} months before this dose (Schedule III); write a new one`;
  }
  return undefined;
}

export interface GivenDose {
  administeredAt: Date;
  medication: Medication;
}

/**
 * Why this dose's timing needs the prescriber's override reason: another dose of the patient less
 * than 24 hours from it, or (esketamine) a third within seven days. Empty when none does. Every
 * dose counts whichever side of this one it was given, so a dose entered late is checked too.
 */
export function doseSpacingConcerns(dose: GivenDose, others: readonly GivenDose[]): string[] {
  const t = dose.administeredAt.getTime();
  const concerns: string[] = [];
  const close = others.filter(
    (o) => Math.abs(o.administeredAt.getTime() - t) < MIN_HOURS_BETWEEN_DOSES * HOUR,
  );
  if (close.length > 0) {
    const hours = Math.min(...close.map((o) => Math.abs(o.administeredAt.getTime() - t))) / HOUR;
    concerns.push(
      `another dose was given ${hours.toFixed(1)} hours from this one (less than ${MIN_HOURS_BETWEEN_DOSES})`,
    );
  }
  if (dose.medication === Medication.ESKETAMINE) {
    const window = ESKETAMINE_WINDOW_DAYS * DAY;
    const times = others
      .filter(
        (o) => o.medication === Medication.ESKETAMINE && Math.abs(o.administeredAt.getTime() - t) < window,
      )
      .map((o) => o.administeredAt.getTime());
    const all = [...times, t].sort((a, b) => a - b);
    // Any run of MAX + 1 doses that spans less than the window, with this dose among them.
    const crowded = all.some((start, i) => {
      const end = all[i + MAX_ESKETAMINE_DOSES_IN_WINDOW];
      return end !== undefined && end - start < window && start <= t && t <= end;
    });
    if (crowded)
      concerns.push(
        `this would be more than ${MAX_ESKETAMINE_DOSES_IN_WINDOW} esketamine doses within ${ESKETAMINE_WINDOW_DAYS} days`,
      );
  }
  return concerns;
}

/**
 * The CRITICAL `VITAL_SIGNS` alert's message for a dose, or undefined: a post-dose or discharge
 * blood pressure above 180/100, or an oxygen saturation under 90 % at any reading.
 */
export function vitalSignsAlarm(
  dose: Pick<DoseRecord, 'before' | 'after' | 'atDischarge'>,
): string | undefined {
  const findings: string[] = [];
  for (const [reading, label] of [
    [dose.after, 'after the dose'],
    [dose.atDischarge, 'at discharge'],
  ] as const) {
    if (aboveLimit(reading))
      findings.push(`blood pressure ${reading.systolic}/${reading.diastolic} ${label}`);
  }
  for (const [reading, label] of [
    [dose.before, 'before the dose'],
    [dose.after, 'after the dose'],
    [dose.atDischarge, 'at discharge'],
  ] as const) {
    if (
      reading.oxygenSaturation !== undefined &&
      reading.oxygenSaturation !== null &&
      reading.oxygenSaturation < OXYGEN_SATURATION_FLOOR
    ) {
      findings.push(`oxygen saturation ${reading.oxygenSaturation} % ${label}`);
    }
  }
  if (findings.length === 0) return undefined;
  return `Vital signs out of range at a dosing session: ${findings.join('; ')} (limits ${BLOOD_PRESSURE_LIMIT.systolic}/${BLOOD_PRESSURE_LIMIT.diastolic}, oxygen saturation ${OXYGEN_SATURATION_FLOOR} %): review the patient now`;
}
