import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  PatientDocument,
  PatientsDocument,
  RemoveCareTeamMemberDocument,
  MeDocument,
} from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;
let admin: TestClinician;

const avery = { firstName: 'Avery', lastName: 'Quinn', dateOfBirth: '1984-03-12' };

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  admin = await server.clinician(Role.ADMIN);
  // Each signs in once, so that they exist to be added to care teams.
  for (const c of [prescriber, therapist, outsider, admin]) await c.http.request(MeDocument);
});
afterAll(() => server.close());

describe('createPatient', () => {
  it('registers a patient with its creator on the care team, status REFERRED', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input: avery });
    expect(createPatient).toMatchObject({ ...avery, status: 'REFERRED' });
    const me = await prescriber.http.request(MeDocument);
    expect(createPatient.careTeam).toEqual([{ role: 'PRESCRIBER', clinician: { id: me.me.id } }]);
  });

  it.each([
    [{ ...avery, firstName: '  ' }, 'firstName'],
    [{ ...avery, lastName: 'x'.repeat(201) }, 'lastName'],
    [{ ...avery, dateOfBirth: '2999-01-01' }, 'future'],
    [{ ...avery, dateOfBirth: '1984-02-30' }, 'real calendar date'],
    [{ ...avery, dateOfBirth: '12/03/1984' }, 'YYYY-MM-DD'],
    [{ ...avery, dateOfBirth: '1850-01-01' }, '1900'],
  ])('refuses %j with BAD_USER_INPUT and writes nothing', async (input, words) => {
    const before = await server.sql<{ n: string }>('select count(*) as n from patient');
    const message = await expectCode(
      prescriber.http.request(CreatePatientDocument, { input }),
      'BAD_USER_INPUT',
    );
    expect(message).toContain(words);
    expect(await server.sql('select count(*) as n from patient')).toEqual(before);
  });

  it('is refused to an admin: admins manage nothing clinical', async () => {
    await expectCode(admin.http.request(CreatePatientDocument, { input: avery }), 'FORBIDDEN');
  });
});

describe('patients', () => {
  it('lists only my patients, paginated by cursor, with a status filter', async () => {
    const mine: string[] = [];
    const author = await server.clinician(Role.THERAPIST);
    for (let i = 0; i < 5; i++) {
      const { createPatient } = await author.http.request(CreatePatientDocument, {
        input: { ...avery, firstName: `P${i}` },
      });
      mine.push(createPatient.id);
    }
    await outsider.http.request(CreatePatientDocument, { input: avery });

    const seen: string[] = [];
    let after: string | null | undefined;
    let pages = 0;
    do {
      const { patients } = await author.http.request(PatientsDocument, { first: 2, after });
      seen.push(...patients.edges.map((e) => e.node.id));
      after = patients.pageInfo.hasNextPage ? patients.pageInfo.endCursor : undefined;
      pages++;
    } while (after);
    expect(seen).toEqual(mine);
    expect(pages).toBe(3);

    const referred = await author.http.request(PatientsDocument, { status: 'REFERRED' });
    expect(referred.patients.edges).toHaveLength(5);
    const active = await author.http.request(PatientsDocument, { status: 'ACTIVE' });
    expect(active.patients.edges).toHaveLength(0);
  });

  it.each([[0], [101], [-1]])('refuses first: %d', async (first) => {
    await expectCode(prescriber.http.request(PatientsDocument, { first }), 'BAD_USER_INPUT');
  });

  it('refuses a forged cursor with BAD_USER_INPUT', async () => {
    await expectCode(
      prescriber.http.request(PatientsDocument, { after: 'bm90LWEtY3Vyc29y' }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      prescriber.http.request(PatientsDocument, { after: Buffer.from('c1:zzz').toString('base64url') }),
      'BAD_USER_INPUT',
    );
  });
});

describe('care-team access', () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = (await prescriber.http.request(CreatePatientDocument, { input: avery })).createPatient.id;
  });

  it('is FORBIDDEN to a clinician off the care team, for reads and every mutation', async () => {
    await expectCode(outsider.http.request(PatientDocument, { id: patientId }), 'FORBIDDEN');
    await expectCode(
      outsider.http.request(AddCareTeamMemberDocument, { patientId, email: outsider.email }),
      'FORBIDDEN',
    );
    const me = await prescriber.http.request(MeDocument);
    await expectCode(
      outsider.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: me.me.id }),
      'FORBIDDEN',
    );
    const { patients } = await outsider.http.request(PatientsDocument, { first: 100 });
    expect(patients.edges.map((e) => e.node.id)).not.toContain(patientId);
  });

  it('opens the record to a clinician once added, and closes it once removed', async () => {
    const added = await prescriber.http.request(AddCareTeamMemberDocument, {
      patientId,
      email: therapist.email.toUpperCase(),
    });
    expect(added.addCareTeamMember.careTeam.map((m) => m.role)).toEqual(['PRESCRIBER', 'THERAPIST']);
    const seen = await therapist.http.request(PatientDocument, { id: patientId });
    expect(seen.patient).toMatchObject({ id: patientId, firstName: 'Avery', status: 'REFERRED' });

    const therapistId = (await therapist.http.request(MeDocument)).me.id;
    await prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: therapistId });
    await expectCode(therapist.http.request(PatientDocument, { id: patientId }), 'FORBIDDEN');
  });

  it('answers null for an unknown patient and BAD_USER_INPUT for a malformed id', async () => {
    const { patient } = await prescriber.http.request(PatientDocument, {
      id: '01a209e8-0000-7000-8000-000000000000',
    });
    expect(patient).toBeNull();
    await expectCode(prescriber.http.request(PatientDocument, { id: 'not-an-id' }), 'BAD_USER_INPUT');
    await expectCode(prescriber.http.request(PatientDocument, { id: "1' or '1'='1" }), 'BAD_USER_INPUT');
  });

  it('refuses bad care-team changes with clear codes', async () => {
    await expectCode(
      prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: 'nobody@clinic.example' }),
      'NOT_FOUND',
    );
    await expectCode(
      prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: 'not an email' }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: admin.email }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: prescriber.email }),
      'CONFLICT',
    );
    const me = (await prescriber.http.request(MeDocument)).me.id;
    await expectCode(
      prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: me }),
      'CONFLICT',
    );
    const outsiderId = (await outsider.http.request(MeDocument)).me.id;
    await expectCode(
      prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: outsiderId }),
      'NOT_FOUND',
    );
    await expectCode(
      prescriber.http.request(AddCareTeamMemberDocument, {
        patientId: '01a209e8-0000-7000-8000-000000000000',
        email: therapist.email,
      }),
      'NOT_FOUND',
    );
  });

  it('never leaves a care team empty, even when its last two members leave at once', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input: avery });
    await prescriber.http.request(AddCareTeamMemberDocument, {
      patientId: createPatient.id,
      email: therapist.email,
    });
    const ids = [
      (await prescriber.http.request(MeDocument)).me.id,
      (await therapist.http.request(MeDocument)).me.id,
    ];
    const results = await Promise.allSettled([
      prescriber.http.request(RemoveCareTeamMemberDocument, {
        patientId: createPatient.id,
        clinicianId: ids[1],
      }),
      therapist.http.request(RemoveCareTeamMemberDocument, {
        patientId: createPatient.id,
        clinicianId: ids[0],
      }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rows = await server.sql('select * from care_team_member where patient_id = $1', [createPatient.id]);
    expect(rows).toHaveLength(1);
  });
});
