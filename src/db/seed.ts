import { PatientStatus } from '../domain/patientStatus';
import { Role } from '../domain/roles';
import { CareTeamMember, Clinician, Patient } from '../entities';
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

/**
 * On the first start of an empty database: two clinicians sharing the care of three patients.
 * Returns false, touching nothing, when the database already holds clinicians.
 */
export async function seedDemoData(orm: Orm): Promise<boolean> {
  const em = orm.em.fork();
  return em.transactional(async (tx) => {
    // Serialise concurrent first starts on one database.
    await tx.getConnection().execute('select pg_advisory_xact_lock(4150001)');
    if ((await tx.count(Clinician, {})) > 0) return false;
    const clinicians = demoClinicians.map((c) => tx.create(Clinician, { ...c }));
    for (const p of demoPatients) {
      const patient = tx.create(Patient, { ...p, createdBy: clinicians[0].id });
      for (const clinician of clinicians) {
        tx.create(CareTeamMember, { patient, clinician, role: clinician.role, addedBy: clinicians[0].id });
      }
    }
    return true;
  });
}
