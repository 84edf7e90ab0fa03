import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  CreateTreatmentPlanDocument,
  type Protocol,
  type Route,
} from '../generated/graphql';
import type { TestClinician } from './server';

export interface PatientNames {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
}

/**
 * A patient registered by `registrar`, with `colleagues` added to the care team (who must have
 * signed in once, so the care team can name them). Returns the patient's id.
 */
export async function patientWithTeam(
  registrar: TestClinician,
  colleagues: TestClinician | readonly TestClinician[],
  names: PatientNames,
): Promise<string> {
  const { createPatient } = await registrar.http.request(CreatePatientDocument, { input: names });
  for (const colleague of Array.isArray(colleagues) ? colleagues : [colleagues])
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

/** A treatment plan (IM unless said, six dosing sessions) for a patient already on `author`'s care team. */
export async function planFor(
  author: TestClinician,
  patientId: string,
  protocol: Protocol = 'SEPARATE_DAY',
  route: Route = 'IM',
): Promise<string> {
  const { createTreatmentPlan } = await author.http.request(CreateTreatmentPlanDocument, {
    input: { patientId, protocol, route, plannedDosingSessions: 6 },
  });
  return createTreatmentPlan.id;
}
