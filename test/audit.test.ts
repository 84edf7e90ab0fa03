import { GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  AuditLogDocument,
  CreatePatientDocument,
  MeDocument,
  PatientDocument,
  PatientsDocument,
} from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

let server: TestServer;
let prescriber: TestClinician;
let admin: TestClinician;
const input = { firstName: 'Morgan', lastName: 'Audit', dateOfBirth: '1979-05-01' };

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  admin = await server.clinician(Role.ADMIN);
});
afterAll(() => server.close());

/** A client whose requests carry a request id of our choosing, to find their audit rows. */
const withRequestId = (clinician: TestClinician, requestId: string) =>
  new GraphQLClient(`${server.url}/graphql`, {
    headers: { authorization: `Bearer ${clinician.token}`, 'x-request-id': requestId },
  });

const rowsOf = (requestId: string) =>
  server.sql<{ action: string; patient_id: string; entity: string; entity_id: string; clinician_id: string }>(
    'select action, patient_id, entity, entity_id, clinician_id from audit_event where request_id = $1 order by id',
    [requestId],
  );

describe('audit events', () => {
  it('records a write with its care-team change, under the request id, in the same transaction', async () => {
    const { createPatient } = await withRequestId(prescriber, 'req-create-1').request(CreatePatientDocument, {
      input,
    });
    const me = (await prescriber.http.request(MeDocument)).me;
    const rows = await rowsOf('req-create-1');
    expect(rows.map((r) => [r.action, r.entity])).toEqual([
      ['patient.create', 'Patient'],
      ['careTeam.add', 'CareTeamMember'],
      ['course.open', 'TreatmentCourse'],
    ]);
    expect(rows.every((r) => r.patient_id === createPatient.id && r.clinician_id === me.id)).toBe(true);
  });

  it('records every read of a patient, one event per patient listed', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input });
    await withRequestId(prescriber, 'req-read-1').request(PatientDocument, { id: createPatient.id });
    expect(await rowsOf('req-read-1')).toEqual([
      expect.objectContaining({
        action: 'patient.read',
        patient_id: createPatient.id,
        entity: 'Patient',
        entity_id: createPatient.id,
      }),
    ]);
    const { patients } = await withRequestId(prescriber, 'req-list-1').request(PatientsDocument, {
      first: 100,
    });
    const listed = await rowsOf('req-list-1');
    expect(listed.map((r) => r.patient_id)).toEqual(patients.edges.map((e) => e.node.id));
  });

  it('records reads over graphql-ws as well', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input });
    const client = server.ws(prescriber.token);
    await new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: `{ patient(id: "${createPatient.id}") { id } }` },
        { next: () => {}, error: reject, complete: resolve },
      ),
    );
    const rows = await server.sql('select 1 from audit_event where action = $1 and patient_id = $2', [
      'patient.read',
      createPatient.id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('records nothing for a write that failed', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input });
    await expectCode(
      withRequestId(prescriber, 'req-fail-1').request(AddCareTeamMemberDocument, {
        patientId: createPatient.id,
        email: prescriber.email,
      }),
      'CONFLICT',
    );
    expect(await rowsOf('req-fail-1')).toEqual([]);
  });

  it('is append-only in the database itself', async () => {
    await expect(server.sql('update audit_event set action = $1', ['tampered'])).rejects.toThrow(
      /append-only/,
    );
    await expect(server.sql('delete from audit_event')).rejects.toThrow(/append-only/);
    await expect(server.sql('truncate audit_event')).rejects.toThrow(/append-only/);
    expect(await server.sql("select 1 from audit_event where action = 'tampered'")).toEqual([]);
  });
});

describe('auditLog', () => {
  it('is for admins only', async () => {
    await expectCode(prescriber.http.request(AuditLogDocument, {}), 'FORBIDDEN');
  });

  it('lists events newest first, by patient, page by page', async () => {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, { input });
    for (let i = 0; i < 3; i++) await prescriber.http.request(PatientDocument, { id: createPatient.id });
    const first = await admin.http.request(AuditLogDocument, { patientId: createPatient.id, first: 2 });
    expect(first.auditLog.edges.map((e) => e.node.action)).toEqual(['patient.read', 'patient.read']);
    expect(first.auditLog.pageInfo.hasNextPage).toBe(true);
    const rest = await admin.http.request(AuditLogDocument, {
      patientId: createPatient.id,
      first: 10,
      after: first.auditLog.pageInfo.endCursor,
    });
    expect(rest.auditLog.edges.map((e) => e.node.action)).toEqual([
      'patient.read',
      'course.open',
      'careTeam.add',
      'patient.create',
    ]);
    const ids = [...first.auditLog.edges, ...rest.auditLog.edges].map((e) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });
});
