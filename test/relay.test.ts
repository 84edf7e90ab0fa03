import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
  RecordMeasureDocument,
} from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

const root = path.resolve(__dirname, '..');
let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;
let admin: TestClinician;
let patientId: string;
let measureId: string;
let planId: string;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  admin = await server.clinician(Role.ADMIN);
  await therapist.http.request(MeDocument);
  for (const lastName of ['Ames', 'Bose', 'Cole']) {
    const { createPatient } = await prescriber.http.request(CreatePatientDocument, {
      input: { firstName: 'Relay', lastName, dateOfBirth: '1981-05-05' },
    });
    patientId = createPatient.id;
  }
  await prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: therapist.email });
  measureId = (
    await prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'GAD7', responses: [1, 1, 1, 1, 0, 0, 0] },
    })
  ).recordMeasure.id;
  planId = (
    await prescriber.http.request(CreateTreatmentPlanDocument, {
      input: { patientId, protocol: 'CONCURRENT', route: 'IM', plannedDosingSessions: 6 },
    })
  ).createTreatmentPlan.id;
});
afterAll(() => server.close());

const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on Patient { lastName } ... on Measure { totalScore } ... on TreatmentPlan { status } ... on Clinician { name } } }`;

describe('node(id:) and nodes(ids:)', () => {
  it('refetches any object by its id, audited as the same read', async () => {
    for (const [id, type] of [
      [patientId, 'Patient'],
      [measureId, 'Measure'],
      [planId, 'TreatmentPlan'],
    ] as const) {
      const { node } = await therapist.http.request<{ node: { __typename: string; id: string } }>(NODE, {
        id,
      });
      expect(node).toMatchObject({ __typename: type, id });
    }
    const rows = await server.sql<{ action: string; entity_id: string }>(
      `select a.action, a.entity_id from audit_event a join clinician c on c.id = a.clinician_id where c.sub = $1 order by a.id`,
      [therapist.sub],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { action: 'patient.read', entity_id: patientId },
        { action: 'measure.read', entity_id: measureId },
        { action: 'plan.read', entity_id: planId },
      ]),
    );
    expect(await therapist.http.request(NODE, { id: '0190a5b4-0000-7000-8000-000000000000' })).toEqual({
      node: null,
    });
    const me = (await therapist.http.request(MeDocument)).me;
    expect((await prescriber.http.request<{ node: unknown }>(NODE, { id: me.id })).node).toMatchObject({
      __typename: 'Clinician',
      name: therapist.name,
    });
  });

  it('refuses what the caller may not see, as the record’s own fields do', async () => {
    await expectCode(outsider.http.request(NODE, { id: patientId }), 'FORBIDDEN');
    await expectCode(outsider.http.request(NODE, { id: measureId }), 'FORBIDDEN');
    await expectCode(
      outsider.http.request(NODE, { id: (await prescriber.http.request(MeDocument)).me.id }),
      'FORBIDDEN',
    );
    await expectCode(admin.http.request(NODE, { id: patientId }), 'FORBIDDEN');
    await expectCode(outsider.http.request(NODE, { id: 'not-an-id' }), 'BAD_USER_INPUT');
    // Audit events: admins only.
    const { auditLog } = await admin.http.request<{ auditLog: { edges: { node: { id: string } }[] } }>(
      '{ auditLog(first: 1) { edges { node { id } } } }',
    );
    const eventId = auditLog.edges[0].node.id;
    expect(
      (
        await admin.http.request<{ node: unknown }>(
          NODE.replace('__typename id', '__typename id ... on AuditEvent { action }'),
          { id: eventId },
        )
      ).node,
    ).toMatchObject({ __typename: 'AuditEvent', id: eventId });
    await expectCode(prescriber.http.request(NODE, { id: eventId }), 'FORBIDDEN');
  });

  it('answers nodes(ids:) in order, each refused or unknown id null with its own error', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${outsider.token}` },
      body: JSON.stringify({
        query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }',
        variables: {
          ids: [
            (await outsider.http.request(MeDocument)).me.id,
            patientId,
            '0190a5b4-0000-7000-8000-000000000000',
          ],
        },
      }),
    });
    const body = (await response.json()) as {
      data: { nodes: unknown[] };
      errors: { path: (string | number)[]; extensions: { code: string } }[];
    };
    expect(body.data.nodes).toEqual([{ __typename: 'Clinician', id: expect.any(String) }, null, null]);
    expect(body.errors.map((e) => [e.path, e.extensions.code])).toEqual([[['nodes', 1], 'FORBIDDEN']]);
  });
});

describe('connections', () => {
  it('carry PageInfo in both directions and a totalCount', async () => {
    type Page = {
      patients: {
        totalCount: number;
        edges: { node: { lastName: string } }[];
        pageInfo: {
          hasNextPage: boolean;
          hasPreviousPage: boolean;
          startCursor: string | null;
          endCursor: string | null;
        };
      };
    };
    const PAGE =
      'query ($after: String) { patients(first: 2, after: $after) { totalCount edges { cursor node { lastName } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }';
    const first = await prescriber.http.request<Page>(PAGE, {});
    expect(first.patients).toMatchObject({
      totalCount: 3,
      pageInfo: { hasNextPage: true, hasPreviousPage: false },
    });
    expect(first.patients.pageInfo.startCursor).not.toBeNull();
    const second = await prescriber.http.request<Page>(PAGE, { after: first.patients.pageInfo.endCursor });
    expect(second.patients).toMatchObject({
      totalCount: 3,
      edges: [{ node: { lastName: 'Cole' } }],
      pageInfo: { hasNextPage: false, hasPreviousPage: true },
    });
  });
});

describe('relay-compiler 21', () => {
  it('compiles @connection on patients and a @refetchable Patient fragment, whose queries the server answers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'relay-fixture-'));
    try {
      await cp(path.join(root, 'test', 'fixtures', 'relay', 'src'), path.join(dir, 'src'), {
        recursive: true,
      });
      await mkdir(path.join(dir, '__generated__'));
      await writeFile(
        path.join(dir, 'relay.config.json'),
        JSON.stringify({
          src: './src',
          schema: path.join(root, 'src', 'schema', 'schema.graphql'),
          language: 'typescript',
          artifactDirectory: './__generated__',
        }),
      );
      await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'relay-compiler'), [], { cwd: dir });
      const operation = async (name: string) => {
        const artifact = await readFile(path.join(dir, '__generated__', `${name}.graphql.ts`), 'utf8');
        return JSON.parse(/"text": ("(?:[^"\\]|\\.)*")/.exec(artifact)![1]) as string;
      };
      const refetch = await prescriber.http.request<{ node: { __typename: string; lastName: string } }>(
        await operation('PatientCardRefetchQuery'),
        { id: patientId },
      );
      expect(refetch.node).toMatchObject({ __typename: 'Patient', lastName: 'Cole' });
      const page = await prescriber.http.request<{
        patients: { totalCount: number; edges: unknown[]; pageInfo: { hasNextPage: boolean } };
      }>(await operation('PatientListPaginationQuery'), { first: 2 });
      expect(page.patients).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
      expect(page.patients.edges).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
