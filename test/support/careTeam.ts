import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  CreateTreatmentPlanDocument,
  type Protocol,
} from '../generated/graphql';
import type { TestClinician } from './server';

export interface PatientNames {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
}

/**
 * A patient registered by `registrar`, with `colleague` added to the care team (who must have
 * signed in once, so the care team can name them). Returns the patient's id.
 */
export async function patientWithTeam(
  registrar: TestClinician,
  colleague: TestClinician,
  names: PatientNames,
): Promise<string> {
  const { createPatient } = await registrar.http.request(CreatePatientDocument, { input: names });
  await registrar.http.request(AddCareTeamMemberDocument, {
    patientId: createPatient.id,
    email: colleague.email,
  });
  return createPatient.id;
}

/** Such a patient with a treatment plan (IM, six dosing sessions) created by `registrar`. */
export async function planWithTeam(
  registrar: TestClinician,
  colleague: TestClinician,
  names: PatientNames,
  protocol: Protocol = 'SEPARATE_DAY',
): Promise<{ planId: string; patientId: string }> {
  const patientId = await patientWithTeam(registrar, colleague, names);
  return { planId: await planFor(registrar, patientId, protocol), patientId };
}

/** A treatment plan (IM, six dosing sessions) for a patient already on `author`'s care team. */
export async function planFor(
  author: TestClinician,
  patientId: string,
  protocol: Protocol = 'SEPARATE_DAY',
): Promise<string> {
  const { createTreatmentPlan } = await author.http.request(CreateTreatmentPlanDocument, {
    input: { patientId, protocol, route: 'IM', plannedDosingSessions: 6 },
  });
  return createTreatmentPlan.id;
}
