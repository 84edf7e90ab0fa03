import { EligibilityDecision, Medication } from '../domain/pathway';
import { PatientStatus } from '../domain/patientStatus';
import { Protocol, Route } from '../domain/plans';
import { Role } from '../domain/roles';
import {
  CareTeamMember,
  Clinician,
  Consent,
  EligibilityAssessment,
  Patient,
  Prescription,
  TreatmentCourse,
  TreatmentPlan,
} from '../entities';
import type { Orm } from './orm';

/** The demo clinicians, whose tokens startup prints. Fictional people at a reserved domain. */
export const demoClinicians = [
  { sub: 'demo-prescriber', email: 'prescriber@demo.example', name: 'Dr. Dana Demo', role: Role.PRESCRIBER },
  { sub: 'demo-therapist', email: 'therapist@demo.example', name: 'Theo Demo, LMFT', role: Role.THERAPIST },
] as const;

const demoPatients = [
  { firstName: 'Avery', lastName: 'Sample', dateOfBirth: '1984-03-12', status: PatientStatus.ACTIVE },
  { firstName: 'Jordan', lastName: 'Example', dateOfBirth: '1990-07-28', status: PatientStatus.SCREENING },
  { firstName: 'Riley', lastName: 'Placeholder', dateOfBirth: '1976-11-05', status: PatientStatus.REFERRED },
];

/** Whether the demo clinicians exist (seeded by this start or an earlier one). */
export async function demoDataPresent(orm: Orm): Promise<boolean> {
  const subs = demoClinicians.map((c) => c.sub);
  return (await orm.em.fork().count(Clinician, { sub: { $in: subs } })) === subs.length;
}

/**
 * On the first start of an empty database: two clinicians sharing the care of three patients, whose
 * records agree with their place on the pathway (the patient in treatment was found eligible,
 * consented, has a plan and a prescription; the one in screening awaits review).
 * Returns false, touching nothing, when the database already holds clinicians.
 */
export async function seedDemoData(orm: Orm): Promise<boolean> {
  const em = orm.em.fork();
  return em.transactional(async (tx) => {
    // Serialise concurrent first starts on one database.
    await tx.getConnection().execute('select pg_advisory_xact_lock(4150001)');
    if ((await tx.count(Clinician, {})) > 0) return false;
    const [prescriber, therapist] = demoClinicians.map((c) => tx.create(Clinician, { ...c }));
    for (const p of demoPatients) {
      const patient = tx.create(Patient, { ...p, createdBy: prescriber.id });
      const course = tx.create(TreatmentCourse, { patient, number: 1, openedBy: prescriber.id });
      for (const clinician of [prescriber, therapist]) {
        tx.create(CareTeamMember, { patient, clinician, role: clinician.role, addedBy: prescriber.id });
      }
      const screened = {
        patient,
        course,
        contraindications: [],
        cautions: [],
        baselineSystolic: 126,
        baselineDiastolic: 80,
        assessedBy: prescriber.id,
      };
      if (p.status === PatientStatus.SCREENING)
        tx.create(EligibilityAssessment, {
          ...screened,
          cautions: ['history of panic attacks'],
          decision: EligibilityDecision.NEEDS_REVIEW,
        });
      if (p.status !== PatientStatus.ACTIVE) continue;
      tx.create(EligibilityAssessment, { ...screened, decision: EligibilityDecision.ELIGIBLE });
      tx.create(Consent, {
        patient,
        course,
        textVersion: 'demo-consent-v1',
        consentedOn: new Date().toISOString().slice(0, 10),
        acknowledgesRisks: true,
        acknowledgesOffLabelUse: true,
        acknowledgesIntegration: true,
        recordedBy: therapist.id,
      });
      tx.create(TreatmentPlan, {
        patient,
        course,
        protocol: Protocol.SEPARATE_DAY,
        route: Route.IM,
        plannedDosingSessions: 6,
        createdBy: prescriber.id,
      });
      tx.create(Prescription, {
        patient,
        course,
        medication: Medication.KETAMINE,
        route: Route.IM,
        doseMg: 35,
        quantity: 6,
        refills: 0,
        prescribedBy: prescriber.id,
      });
    }
    return true;
  });
}
