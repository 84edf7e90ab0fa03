import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { DAY, fromNow, HOUR } from './support/time';

/**
 * What a page of patients costs in SQL statements (`server.queries` records every one, the caller's
 * identity and the audit INSERT included): the same for 10 patients as for 100, whatever list fields
 * each patient's node asks for.
 */
let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;

const PATIENTS = 100;
/** Patients with more measures than `measures(first: 5)` returns. */
const MANY_MEASURES = 4;

// Read loosely: the selections are built per field below.
type Json = any;

const request = (query: string, variables: Record<string, unknown> = {}): Promise<Json> =>
  prescriber.http.request(query, variables);

const PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 1];
const GAD7 = [2, 2, 2, 1, 1, 1, 0];

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request('{ me { id } }');
  const seedPatient = async (i: number) => {
    const { createPatient } = await request(
      `mutation ($input: CreatePatientInput!) { createPatient(input: $input) { id } }`,
      {
        input: { firstName: `P${i}`, lastName: 'Page', dateOfBirth: '1980-01-01' },
      },
    );
    const patientId = createPatient.id;
    const measure = (instrument: string, responses: number[], hoursAgo: number) =>
      request(`mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id } }`, {
        input: { patientId, instrument, responses, administeredAt: fromNow(-hoursAgo * HOUR).toISOString() },
      });
    await request(`mutation ($p: ID!, $e: String!) { addCareTeamMember(patientId: $p, email: $e) { id } }`, {
      p: patientId,
      e: therapist.email,
    });
    // Item 9 above 0 raises a CRITICAL alert: every patient has one open.
    await measure('PHQ9', PHQ9_ITEM9, 10);
    await measure('GAD7', GAD7, 9);
    if (i < MANY_MEASURES)
      for (let k = 0; k < 6; k++) await measure('PHQ9', [0, 0, 0, 0, 0, 0, 0, 0, k % 2], 8 - k);
    const { createTreatmentPlan } = await request(
      `mutation ($input: CreateTreatmentPlanInput!) { createTreatmentPlan(input: $input) { id } }`,
      {
        input: { patientId, protocol: 'SEPARATE_DAY', route: 'IM', plannedDosingSessions: 6 },
      },
    );
    await request(`mutation ($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id } }`, {
      input: { planId: createTreatmentPlan.id, kind: 'PREPARATION', scheduledAt: fromNow(DAY).toISOString() },
    });
  };
  // A few patients at a time: each one's requests in order.
  const lanes = 6;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < PATIENTS; i += lanes) await seedPatient(i);
    }),
  );
}, 300_000);
afterAll(() => server.close());

const DASHBOARD = `id firstName lastName status careTeam { role clinician { name } } latestMeasures { instrument totalScore severity administeredAt }`;

/** Every list (and per-patient) field a page of patients can ask for, with what it should hold here. */
const FIELDS: Record<string, string> = {
  careTeam: 'careTeam { role clinician { name } }',
  latestMeasures: 'latestMeasures { instrument totalScore severity administeredAt }',
  measures:
    'measures(first: 5) { edges { cursor node { id instrument totalScore } } pageInfo { hasNextPage endCursor } }',
  'measures(instrument)':
    'gad7: measures(first: 2, instrument: GAD7) { edges { node { id } } pageInfo { hasNextPage } }',
  alerts: 'alerts { id kind level message }',
  'alerts(all)': 'allAlerts: alerts(unacknowledgedOnly: false) { id }',
  treatmentPlans: 'treatmentPlans { id status }',
  currentCourse: 'currentCourse { id number }',
  courses: 'courses { id number }',
  sessions: 'sessions { id kind }',
  eligibilityAssessments: 'eligibilityAssessments { id }',
  consents: 'consents { id }',
  prescriptions: 'prescriptions { id }',
  timeline:
    'timeline(first: 5) { edges { cursor node { kind at item { ... on Measure { id } ... on ScoreAlert { id } ... on TreatmentSession { id } } } } pageInfo { hasNextPage endCursor } }',
  'latestMeasures.changeFromBaseline': 'latestMeasures { id changeFromBaseline }',
  'measures.changeFromBaseline': 'recent: measures(first: 3) { edges { node { id changeFromBaseline } } }',
};

const page = (selection: string) =>
  `query ($first: Int!) { patients(first: $first) { edges { node { id ${selection} } } pageInfo { hasNextPage endCursor } } }`;

async function statementsFor(
  query: string,
  first: number,
): Promise<{ statements: string[]; patients: Json }> {
  server.queries.length = 0;
  const { patients } = await request(query, { first });
  expect(patients.edges).toHaveLength(first);
  return { statements: [...server.queries], patients };
}

describe('SQL per page of patients', () => {
  it.each(Object.entries(FIELDS))(
    '%s costs the same statements for 10 patients as for 50',
    async (name, selection) => {
      const small = await statementsFor(page(selection), 10);
      const large = await statementsFor(page(selection), 50);
      expect(large.statements.length, large.statements.join('\n')).toBe(small.statements.length);
      // The caller's identity, the patients, the page's list fields together (the care team with its
      // clinicians), what the field's items ask for in turn (the baselines of changeFromBaseline; the
      // timeline: each kind of record on the page), the audit rows.
      expect(large.statements.length, large.statements.join('\n')).toBeLessThanOrEqual(
        name === 'timeline' ? 12 : name.endsWith('changeFromBaseline') ? 5 : 4,
      );
    },
  );

  it('answers each patient of a batched page as it answers that patient alone', async () => {
    const selection = Object.values(FIELDS).join(' ');
    const { patients } = await statementsFor(page(selection), 50);
    const nodes: Json[] = patients.edges.map((e: Json) => e.node);
    const many = nodes.filter((n) => n.measures.pageInfo.hasNextPage);
    const few = nodes.filter((n) => !n.measures.pageInfo.hasNextPage);
    expect(many.map((n) => n.measures.edges.length)).toEqual(Array(MANY_MEASURES).fill(5));
    for (const node of [...many, ...few.slice(0, 2)]) {
      const { patient } = await request(`query ($id: ID!) { patient(id: $id) { id ${selection} } }`, {
        id: node.id,
      });
      expect(node).toEqual(patient);
    }
    const [one] = few;
    expect(one.measures.edges.map((e: Json) => e.node.instrument)).toEqual(['GAD7', 'PHQ9']);
    expect(one.measures.pageInfo.hasNextPage).toBe(false);
    expect(one.latestMeasures.map((m: Json) => m.instrument)).toEqual(['GAD7', 'PHQ9']);
    expect(one.alerts).toHaveLength(1);
    expect(one.treatmentPlans).toHaveLength(1);
    expect(one.sessions).toHaveLength(1);
    expect(one.currentCourse).toEqual(one.courses[0]);
  });

  it("pages each patient's measures on from its own cursor, in one statement for the page", async () => {
    const { patients } = await statementsFor(page(FIELDS.measures), PATIENTS);
    const first = patients.edges.map((e: Json) => e.node).find((n: Json) => n.measures.pageInfo.hasNextPage);
    const { patient } = await request(
      `query ($id: ID!, $after: String) { patient(id: $id) { measures(first: 5, after: $after) { edges { node { id } } pageInfo { hasNextPage } } } }`,
      {
        id: first.id,
        after: first.measures.pageInfo.endCursor,
      },
    );
    // 8 in all: 5, then 3.
    expect(patient.measures.edges).toHaveLength(3);
    expect(patient.measures.pageInfo.hasNextPage).toBe(false);
    expect(patient.measures.edges.map((e: Json) => e.node.id)).not.toContain(first.measures.edges[4].node.id);
  });

  it.each([
    ['the dashboard', DASHBOARD],
    [
      'the dashboard with everything a front end adds to it',
      `${DASHBOARD} ${FIELDS.measures} ${FIELDS.alerts} ${FIELDS.treatmentPlans} ${FIELDS.currentCourse} ${FIELDS.courses} ${FIELDS.sessions}`,
    ],
  ])('%s costs the same 6 statements at most for 1, 10, 50 and 100 patients', async (_, selection) => {
    const counts: number[] = [];
    for (const first of [1, 10, 50, 100]) {
      const { statements, patients } = await statementsFor(page(selection), first);
      expect(
        patients.edges.every((e: Json) => e.node.careTeam.length === 2 && e.node.latestMeasures.length === 2),
      ).toBe(true);
      counts.push(statements.length);
      // The caller's identity, the page of patients, every list field of the page in one statement, the audit rows.
      expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(6);
    }
    expect(new Set(counts).size, `${counts}`).toBe(1);
  });

  it('audits every record of a batched page, one row each', async () => {
    const { statements, patients } = await statementsFor(
      page(`${FIELDS.latestMeasures} ${FIELDS.alerts}`),
      10,
    );
    expect(statements.filter((sql) => /^insert into "?audit_event/i.test(sql))).toHaveLength(1);
    const ids = patients.edges.map((e: Json) => e.node.id);
    const rows = await server.orm.em
      .fork()
      .getConnection()
      .execute<{ action: string; n: string }[]>(
        `select action, count(*)::text as n from audit_event
         where request_id = (select request_id from audit_event where patient_id = ? order by id desc limit 1) group by action`,
        [ids[0]],
      );
    const alerts = patients.edges.reduce((n: number, e: Json) => n + e.node.alerts.length, 0);
    expect(alerts).toBeGreaterThan(10);
    expect(Object.fromEntries(rows.map((r) => [r.action, Number(r.n)]))).toEqual({
      'patient.read': 10,
      'measure.read': 20,
      'alert.read': alerts,
    });
  });

  it("reads the care teams and latest measures in the page's own statement, through fragments too, and audits only what the answer holds", async () => {
    const auditOf = async (patientId: string) =>
      Object.fromEntries(
        (
          await server.orm.em
            .fork()
            .getConnection()
            .execute<{ action: string; n: string }[]>(
              `select action, count(*)::text as n from audit_event
               where request_id = (select request_id from audit_event where patient_id = ? order by id desc limit 1) group by action`,
              [patientId],
            )
        ).map((r) => [r.action, Number(r.n)]),
      );
    const ahead = `query ($first: Int!, $skip: Boolean!) { patients(first: $first) { edges { node { id ...Team
      ... on Patient { latestMeasures @skip(if: $skip) { id totalScore } } } } } }
      fragment Team on Patient { careTeam { role clinician { name } } }`;
    for (const skip of [false, true]) {
      server.queries.length = 0;
      const { patients } = await request(ahead, { first: 10, skip });
      const reads = server.queries.filter((sql) => /^(select|with)\b/i.test(sql));
      // The page, its care teams and (read ahead even when skipped) its latest measures: one statement.
      expect(reads, reads.join('\n')).toHaveLength(1);
      const nodes: Json[] = patients.edges.map((e: Json) => e.node);
      expect(nodes.every((n) => n.careTeam.length === 2)).toBe(true);
      expect(
        nodes.every((n) => (skip ? n.latestMeasures === undefined : n.latestMeasures.length === 2)),
      ).toBe(true);
      expect(await auditOf(nodes[0].id)).toEqual({
        'patient.read': 10,
        ...(skip ? {} : { 'measure.read': 20 }),
      });
    }
  });

  it("reads one patient's view (care team, measures, alerts) in the patient's own statement, and nothing of it for someone off the team", async () => {
    const view = `query ($id: ID!) { patient(id: $id) { id careTeam { role clinician { name } }
      measures(first: 20) { edges { node { id totalScore } } } alerts { id kind } } }`;
    const { patients } = await statementsFor(page(''), 1);
    const id = patients.edges[0].node.id;
    server.queries.length = 0;
    const { patient } = await request(view, { id });
    const reads = server.queries.filter((sql) => /^(select|with)\b/i.test(sql));
    expect(reads, reads.join('\n')).toHaveLength(1);
    // The patient, then (besides) the audit INSERT.
    expect(server.queries).toHaveLength(2);
    expect(patient.careTeam).toHaveLength(2);
    expect(patient.measures.edges.length).toBeGreaterThan(0);
    expect(patient.alerts.length).toBeGreaterThan(0);

    const outsider = await server.clinician(Role.PRESCRIBER);
    const { me } = await outsider.http.request('{ me { id } }');
    await expectCode(outsider.http.request(view, { id }), 'FORBIDDEN');
    const seen = await server.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(`select count(*)::text as n from audit_event where clinician_id = ?`, [
        me.id,
      ]);
    expect(Number(seen[0].n)).toBe(0);
  });
});
