import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { fromNow, HOUR } from './support/time';

/**
 * The hot reads (a page of patients, care teams, latest measures, measure pages, a patient's alerts)
 * answer plain rows, writes and `node(id)` managed entities (src/records/rows.ts). Every field the
 * schema shows on these types must read the same from either: nulls, instants as ISO strings, enums,
 * relations.
 */
let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;

// Read loosely: the answers are compared with each other.
type Json = any;

const CLINICIAN = 'id name email role';
const COURSE = 'course { id number openedAt }';
const ALERT = `id kind level message createdAt acknowledgedAt acknowledgedBy { ${CLINICIAN} } measure { id }
  session { id } patient { id firstName } ${COURSE}`;
const MEASURE = `id instrument responses totalScore severity administeredAt changeFromBaseline
  recordedBy { ${CLINICIAN} } patient { id firstName lastName } alerts { ${ALERT} } ${COURSE}`;
const PATIENT = 'id firstName lastName dateOfBirth status';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let patientId: string;
/** As the mutations answered them, from entities. */
let created: Json;
let recorded: Json[];
let acknowledged: Json;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request('{ me { id } }');
  ({ createPatient: created } = await prescriber.http.request<Json>(
    `mutation ($input: CreatePatientInput!) { createPatient(input: $input) { ${PATIENT} } }`,
    { input: { firstName: 'Rowan', lastName: 'Plain', dateOfBirth: '1979-02-28' } },
  ));
  patientId = created.id;
  await prescriber.http.request(
    `mutation ($p: ID!, $e: String!) { addCareTeamMember(patientId: $p, email: $e) { id } }`,
    { p: patientId, e: therapist.email },
  );
  const record = async (instrument: string, responses: number[], at: Date) =>
    (
      await prescriber.http.request<Json>(
        `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { ${MEASURE} } }`,
        { input: { patientId, instrument, responses, administeredAt: at.toISOString() } },
      )
    ).recordMeasure;
  // Item 9 above 0 raises a CRITICAL alert; the second PHQ-9 changes from the first's baseline.
  recorded = [
    await record('PHQ9', [2, 2, 2, 2, 2, 2, 2, 2, 1], fromNow(-3 * HOUR)),
    await record('GAD7', [1, 1, 1, 1, 0, 0, 0], fromNow(-2 * HOUR)),
    await record('PHQ9', [1, 1, 1, 1, 1, 1, 1, 1, 2], fromNow(-HOUR)),
  ];
  const alertId = recorded[0].alerts[0].id;
  ({ acknowledgeAlert: acknowledged } = await therapist.http.request<Json>(
    `mutation ($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT} } }`,
    { id: alertId },
  ));
}, 120_000);
afterAll(() => server.close());

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

describe('plain rows and entities answer alike', () => {
  it('a patient on a page of patients reads as the patient created and as patient(id)', async () => {
    const { patients } = await prescriber.http.request<Json>(
      `{ patients(first: 100) { edges { node { ${PATIENT} } } } }`,
    );
    const { patient } = await prescriber.http.request<Json>(
      `query ($id: ID!) { patient(id: $id) { ${PATIENT} } }`,
      {
        id: patientId,
      },
    );
    expect(patients.edges.map((e: Json) => e.node)).toEqual([created]);
    expect(patient).toEqual(created);
    expect(created).toEqual({
      id: patientId,
      firstName: 'Rowan',
      lastName: 'Plain',
      dateOfBirth: '1979-02-28',
      status: 'REFERRED',
    });
  });

  it('a care team shows each member with the clinician as that clinician reads itself', async () => {
    const { patient } = await prescriber.http.request<Json>(
      `query ($id: ID!) { patient(id: $id) { careTeam { role addedAt clinician { ${CLINICIAN} } } } }`,
      { id: patientId },
    );
    const me = async (c: TestClinician) => (await c.http.request<Json>(`{ me { ${CLINICIAN} } }`)).me;
    expect(patient.careTeam.map((m: Json) => m.clinician)).toEqual([
      await me(prescriber),
      await me(therapist),
    ]);
    expect(patient.careTeam.map((m: Json) => m.role)).toEqual(['PRESCRIBER', 'THERAPIST']);
    for (const member of patient.careTeam) expect(member.addedAt).toMatch(ISO_UTC);
  });

  it('a measure reads the same from its page, from latestMeasures and from node(id) as recordMeasure answered it', async () => {
    // The alert acknowledged since as acknowledgeAlert answered it.
    const expected = recorded.map((m) => ({
      ...m,
      alerts: m.alerts.map((a: Json) => (a.id === acknowledged.id ? acknowledged : a)),
    }));
    const { patient } = await prescriber.http.request<Json>(
      `query ($id: ID!) { patient(id: $id) { measures(first: 10) { edges { node { ${MEASURE} } } }
        latestMeasures { ${MEASURE} } } }`,
      { id: patientId },
    );
    expect(patient.measures.edges.map((e: Json) => e.node)).toEqual([...expected].reverse());
    expect([...patient.latestMeasures].sort(byId)).toEqual([expected[1], expected[2]].sort(byId));
    for (const measure of expected) {
      const { node } = await prescriber.http.request<Json>(
        `query ($id: ID!) { node(id: $id) { ... on Measure { ${MEASURE} } } }`,
        { id: measure.id },
      );
      expect(node).toEqual(measure);
      expect(measure.administeredAt).toMatch(ISO_UTC);
    }
    expect(expected[2].changeFromBaseline).toBe(10 - 17);
    expect(expected[0].changeFromBaseline).toBe(0);
  });

  it('an alert reads the same from patient.alerts as from the alerts query, acknowledged or open, nulls included', async () => {
    const { patient } = await prescriber.http.request<Json>(
      `query ($id: ID!) { patient(id: $id) { open: alerts { ${ALERT} } all: alerts(unacknowledgedOnly: false) { ${ALERT} } } }`,
      { id: patientId },
    );
    const { alerts } = await prescriber.http.request<Json>(
      `query ($id: ID!) { alerts(patientId: $id, unacknowledgedOnly: false) { edges { node { ${ALERT} } } } }`,
      { id: patientId },
    );
    const fromQuery = alerts.edges.map((e: Json) => e.node);
    expect(patient.all).toEqual(fromQuery);
    expect(patient.all).toContainEqual(acknowledged);
    expect(patient.open).toEqual(fromQuery.filter((a: Json) => a.acknowledgedAt === null));
    expect(patient.open.length).toBeGreaterThan(0);
    for (const alert of patient.open) {
      expect(alert).toMatchObject({ acknowledgedAt: null, acknowledgedBy: null, session: null });
      expect(alert.createdAt).toMatch(ISO_UTC);
    }
    expect(acknowledged.acknowledgedAt).toMatch(ISO_UTC);
    expect(acknowledged.acknowledgedBy.email).toBe(therapist.email);
  });
});
