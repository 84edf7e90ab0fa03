import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { EVENT_HUB_APPLICATION } from '../src/events/hub';
import {
  AcknowledgeAlertDocument,
  AddCareTeamMemberDocument,
  AlertsDocument,
  CreatePatientDocument,
  MeasureRecordedDocument,
  MeDocument,
  PatientMeasuresDocument,
  RecordMeasureDocument,
  RemoveCareTeamMemberDocument,
  ScoreAlertsDocument,
} from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { patientWithTeam } from './support/careTeam';
import { phq9 } from './support/instruments';
import { collect, eventually } from './support/subscription';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
});
afterAll(() => server.close());

const newPatient = () =>
  patientWithTeam(prescriber, therapist, {
    firstName: 'Sam',
    lastName: 'Measure',
    dateOfBirth: '1988-04-04',
  });

const record = (
  by: TestClinician,
  patientId: string,
  responses: number[],
  instrument: 'PHQ9' | 'GAD7' | 'PCL5' = 'PHQ9',
  administeredAt?: string,
) => by.http.request(RecordMeasureDocument, { input: { patientId, instrument, responses, administeredAt } });

describe('recordMeasure', () => {
  it('scores on the server and raises the alerts of the rules', async () => {
    const patientId = await newPatient();
    const first = (await record(therapist, patientId, phq9(21, 2))).recordMeasure;
    expect(first).toMatchObject({ totalScore: 21, severity: 'SEVERE', changeFromBaseline: 0 });
    expect(first.alerts.map((a) => [a.kind, a.level])).toEqual([
      ['SUICIDAL_IDEATION', 'CRITICAL'],
      ['SEVERE_SYMPTOMS', 'WARNING'],
    ]);
    const second = (await record(prescriber, patientId, phq9(10))).recordMeasure;
    expect(second).toMatchObject({ totalScore: 10, severity: 'MODERATE', changeFromBaseline: -11 });
    expect(second.alerts.map((a) => a.kind)).toEqual(['RESPONSE']);
    const third = (await record(prescriber, patientId, phq9(4))).recordMeasure;
    expect(third.alerts.map((a) => a.kind)).toEqual(['REMISSION']);
    const fourth = (await record(prescriber, patientId, phq9(3))).recordMeasure;
    expect(fourth.alerts).toEqual([]);
    const worse = (await record(prescriber, patientId, phq9(8))).recordMeasure;
    expect(worse.alerts.map((a) => a.kind)).toEqual(['WORSENING']);
  });

  it.each<[string, number[], string]>([
    ['PHQ9', [0, 0, 0], 'PHQ-9 has 9 items; got 3 responses'],
    ['PHQ9', [0, 0, 0, 0, 0, 0, 0, 0, 4], 'PHQ-9 item 9 must be a whole number from 0 to 3'],
    ['GAD7', [0, 0, -1, 0, 0, 0, 0], 'GAD-7 item 3'],
  ])(
    'refuses bad %s responses %j naming the item, writing nothing',
    async (instrument, responses, message) => {
      const patientId = await newPatient();
      const text = await expectCode(
        record(prescriber, patientId, responses, instrument as 'PHQ9'),
        'BAD_USER_INPUT',
      );
      expect(text).toContain(message);
      expect(await server.sql('select 1 from measure where patient_id = $1', [patientId])).toEqual([]);
    },
  );

  it("stores a measure and its alerts in 6 statements, the request's authentication, begin and commit included", async () => {
    const patientId = await newPatient();
    await record(prescriber, patientId, phq9(12));
    const mark = server.queries.length;
    // With a baseline and a previous measure to compare with, raising several alerts; an answer that
    // reads nothing more, so only the write is counted.
    const { recordMeasure } = await prescriber.http.request(
      `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id } }`,
      {
        input: { patientId, instrument: 'PHQ9', responses: phq9(22, 2) },
      },
    );
    const statements = server.queries.slice(mark);
    const [{ alerts }] = await server.sql<{ alerts: number }>(
      'select count(*)::int as alerts from score_alert where measure_id = $1',
      [recordMeasure.id],
    );
    expect(alerts).toBeGreaterThanOrEqual(2);
    // The caller's clinician is remembered from the first request. Begin, the patient locked with
    // the membership, the course with the history; the measure with its alerts, the audit, commit
    // (in two round trips); the database announces the measure and alerts itself.
    expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(6);
    expect(statements[0]).toBe('begin');
    expect(statements.at(-1)).toBe('commit');
    expect(statements.filter((sql) => /for update/.test(sql))).toHaveLength(1);
  });

  it('answers its alerts from what the write stored: no statement reads them again, and the answer is what a later read finds', async () => {
    const patientId = await newPatient();
    await record(prescriber, patientId, phq9(12));
    const ALERT_FIELDS = 'id kind level message createdAt acknowledgedAt';
    const mark = server.queries.length;
    const { recordMeasure } = await prescriber.http.request<{
      recordMeasure: { id: string; alerts: Record<string, unknown>[] };
    }>(
      `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id alerts { ${ALERT_FIELDS} } } }`,
      {
        input: { patientId, instrument: 'PHQ9', responses: phq9(22, 2) },
      },
    );
    const statements = server.queries.slice(mark);
    expect(recordMeasure.alerts.length).toBeGreaterThanOrEqual(2);
    // The write's 6 statements, then only the audit of the answer's read of its alerts.
    const committed = statements.indexOf('commit');
    expect(committed, statements.join('\n')).toBe(5);
    expect(statements.slice(committed + 1), statements.join('\n')).toEqual([
      expect.stringMatching(/^insert into "?audit_event/i),
    ]);
    // Each of the answer's alerts as the database has it, in the same order, with all its fields.
    const full = `${ALERT_FIELDS} measure { id } patient { id } course { id } acknowledgedBy { id } session { id }`;
    const answered = await prescriber.http.request<{
      recordMeasure: { id: string; alerts: Record<string, unknown>[] };
    }>(`mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id alerts { ${full} } } }`, {
      input: { patientId, instrument: 'PHQ9', responses: phq9(27, 3) },
    });
    const { node } = await prescriber.http.request<{ node: { alerts: Record<string, unknown>[] } }>(
      `query ($id: ID!) { node(id: $id) { ... on Measure { alerts { ${full} } } } }`,
      { id: answered.recordMeasure.id },
    );
    expect(answered.recordMeasure.alerts.length).toBeGreaterThanOrEqual(1);
    expect(answered.recordMeasure.alerts).toEqual(node.alerts);
  });

  it('refuses non-integers, future times and clinicians off the care team', async () => {
    const patientId = await newPatient();
    await expectCode(record(prescriber, patientId, [0, 0, 0, 0, 0, 0, 0, 0, 1.5]), 'BAD_USER_INPUT');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      await expectCode(record(prescriber, patientId, phq9(3), 'PHQ9', future), 'BAD_USER_INPUT'),
    ).toContain('future');
    await expectCode(record(outsider, patientId, phq9(3)), 'FORBIDDEN');
    expect(await server.sql('select 1 from measure where patient_id = $1', [patientId])).toEqual([]);
  });

  it('serialises 50 concurrent measures: one baseline, at most one RESPONSE and one REMISSION', async () => {
    const patientId = await newPatient();
    await record(prescriber, patientId, phq9(24));
    const totals = Array.from({ length: 50 }, (_, i) => i % 5);
    const results = await Promise.all(
      totals.map((t, n) => record(n % 2 ? prescriber : therapist, patientId, phq9(t))),
    );
    expect(results.every((r) => r.recordMeasure.changeFromBaseline === r.recordMeasure.totalScore - 24)).toBe(
      true,
    );
    const counts = await server.sql<{ kind: string; n: number }>(
      'select kind, count(*)::int as n from score_alert where patient_id = $1 group by kind order by kind',
      [patientId],
    );
    expect(counts).toEqual([
      { kind: 'REMISSION', n: 1 },
      { kind: 'RESPONSE', n: 1 },
      { kind: 'SEVERE_SYMPTOMS', n: 1 },
    ]);
  });
});

/** A plan node of EXPLAIN's JSON, as far as read here. */
interface PlanNode {
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/**
 * A statement the server sent, run again as it was sent: its rows, and how often the plan scanned
 * each table it reads (0 for a scan never executed).
 */
async function replay({ sql, params }: TestServer['sent'][number]) {
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const rows = await server.sql(text, [...params]);
  const [{ 'QUERY PLAN': plans }] = await server.sql<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
    `explain (analyze, format json) ${text}`,
    [...params],
  );
  const scans: Record<string, number> = {};
  const walk = (node: PlanNode) => {
    const table = node['Relation Name'];
    if (table) scans[table] = (scans[table] ?? 0) + node['Actual Loops'];
    node.Plans?.forEach(walk);
  };
  walk(plans[0].Plan);
  return { rows, scans };
}

describe('recordMeasure by a clinician off the care team', () => {
  it("reads nothing of the patient's course or history: the statement sent beside the lock scans none of their tables", async () => {
    const patientId = await newPatient();
    await record(prescriber, patientId, phq9(12, 1));
    /** The statement `work`'s request sent to read the course with the history. */
    const historyRead = async (work: () => Promise<unknown>) => {
      const mark = server.sent.length;
      await work();
      return server.sent.slice(mark).find(({ sql }) => /from treatment_course/.test(sql))!;
    };
    await outsider.http.request(MeDocument);
    const offTeam = await historyRead(() => expectCode(record(outsider, patientId, phq9(14)), 'FORBIDDEN'));
    const { rows, scans } = await replay(offTeam);
    // No column of the course or its history: at most the membership, false.
    expect(
      rows.flatMap((row) => Object.values(row).filter((value) => value !== null && value !== false)),
    ).toEqual([]);
    for (const table of ['treatment_course', 'measure', 'score_alert'])
      expect(scans[table] ?? 0, table).toBe(0);

    // The same statement for a member reads the course and the history it is there for (run again
    // after that write, it finds the write's own measure the previous one).
    const member = await replay(await historyRead(() => record(prescriber, patientId, phq9(14))));
    expect(member.rows).toEqual([
      expect.objectContaining({ id: expect.any(String), previous: 14, baseline: 12 }),
    ]);
    expect(member.scans.treatment_course).toBeGreaterThan(0);
  });

  it("refuses, writing nothing, a clinician taken off the team while the write waited for the patient's lock", async () => {
    const patientId = await newPatient();
    const [{ id: therapistId }] = await server.sql<{ id: string }>(
      'select id from clinician where email = $1',
      [therapist.email],
    );
    const team = new pg.Client({ connectionString: server.databaseUrl });
    await team.connect();
    try {
      // A change of the care team holds the patient's row lock, as removeCareTeamMember does.
      await team.query('begin');
      await team.query('select 1 from patient where id = $1 for update', [patientId]);
      await team.query('delete from care_team_member where patient_id = $1 and clinician_id = $2', [
        patientId,
        therapistId,
      ]);
      const write = expectCode(record(therapist, patientId, phq9(10)), 'FORBIDDEN');
      write.catch(() => undefined);
      const [{ pid }] = (await team.query('select pg_backend_pid() as pid')).rows as { pid: number }[];
      // The write waits for the lock this transaction holds.
      await eventually(
        async () =>
          (
            await server.sql(
              `select 1 from pg_stat_activity where datname = current_database() and $1 = any(pg_blocking_pids(pid))`,
              [pid],
            )
          ).length > 0,
      );
      await team.query('commit');
      await write;
    } finally {
      await team.end();
    }
    expect(await server.sql('select 1 from measure where patient_id = $1', [patientId])).toEqual([]);
  });
});

describe('reads and acknowledgement', () => {
  it('lists measures newest first, by instrument, the latest of each, and alerts', async () => {
    const patientId = await newPatient();
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    await record(prescriber, patientId, phq9(12), 'PHQ9', at(30));
    await record(prescriber, patientId, [1, 1, 1, 1, 1, 1, 1], 'GAD7', at(20));
    await record(prescriber, patientId, phq9(6), 'PHQ9', at(10));
    const { patient } = await prescriber.http.request(PatientMeasuresDocument, { id: patientId, first: 2 });
    expect(patient!.measures.edges.map((e) => [e.node.instrument, e.node.totalScore])).toEqual([
      ['PHQ9', 6],
      ['GAD7', 7],
    ]);
    const next = await prescriber.http.request(PatientMeasuresDocument, {
      id: patientId,
      after: patient!.measures.pageInfo.endCursor,
    });
    expect(next.patient!.measures.edges.map((e) => e.node.totalScore)).toEqual([12]);
    const phqOnly = await prescriber.http.request(PatientMeasuresDocument, {
      id: patientId,
      instrument: 'PHQ9',
    });
    expect(
      phqOnly.patient!.measures.edges.map((e) => [e.node.totalScore, e.node.changeFromBaseline]),
    ).toEqual([
      [6, -6],
      [12, 0],
    ]);
    expect(patient!.latestMeasures.map((m) => [m.instrument, m.totalScore])).toEqual([
      ['GAD7', 7],
      ['PHQ9', 6],
    ]);
    expect(patient!.alerts.map((a) => a.kind)).toEqual(['RESPONSE']);
  });

  it('acknowledges an alert once: a second acknowledgement keeps the first', async () => {
    const patientId = await newPatient();
    const alert = (await record(therapist, patientId, phq9(5, 1))).recordMeasure.alerts[0];
    const first = (await therapist.http.request(AcknowledgeAlertDocument, { id: alert.id })).acknowledgeAlert;
    const second = (await prescriber.http.request(AcknowledgeAlertDocument, { id: alert.id }))
      .acknowledgeAlert;
    expect(second).toEqual(first);
    expect(first.acknowledgedBy?.id).toBe((await therapist.http.request(MeDocument)).me.id);
    await expectCode(outsider.http.request(AcknowledgeAlertDocument, { id: alert.id }), 'FORBIDDEN');
    const open = await prescriber.http.request(AlertsDocument, { patientId });
    expect(open.alerts.edges).toEqual([]);
    const all = await prescriber.http.request(AlertsDocument, { patientId, unacknowledgedOnly: false });
    expect(all.alerts.edges.map((e) => e.node.id)).toEqual([alert.id]);
    await expectCode(outsider.http.request(AlertsDocument, { patientId }), 'FORBIDDEN');
  });

  it("lists alerts across only the caller's patients", async () => {
    const mine = await newPatient();
    const { createPatient } = await outsider.http.request(CreatePatientDocument, {
      input: { firstName: 'O', lastName: 'T', dateOfBirth: '1990-01-01' },
    });
    await record(outsider, createPatient.id, phq9(3, 1));
    await record(prescriber, mine, phq9(3, 1));
    const { alerts } = await prescriber.http.request(AlertsDocument, { first: 100 });
    const patients = new Set(alerts.edges.map((e) => e.node.patient.id));
    expect(patients.has(mine)).toBe(true);
    expect(patients.has(createPatient.id)).toBe(false);
  });
});

describe('live alerts over graphql-ws', () => {
  it('delivers each committed alert once to every care-team subscriber, and stops at removal', async () => {
    const patientId = await newPatient();
    const base = server.app.liveSubscriptions();
    const forPatient = collect(server.ws(therapist.token), ScoreAlertsDocument, { patientId });
    const forAll = collect(server.ws(prescriber.token), ScoreAlertsDocument, {});
    const measures = collect(server.ws(prescriber.token), MeasureRecordedDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 3);

    // The prescriber's all-patients subscription also hears alerts of their other patients, some raised
    // by earlier tests and delivered late under load: only this patient's are counted.
    const forAllOfPatient = () =>
      forAll.received.map((r) => r.scoreAlert).filter((alert) => alert.patient.id === patientId);
    const recorded = (await record(prescriber, patientId, phq9(22, 1))).recordMeasure;
    const ids = recorded.alerts.map((a) => a.id);
    expect((await forPatient.until(2)).map((r) => r.scoreAlert.id).sort()).toEqual([...ids].sort());
    await eventually(() => forAllOfPatient().length >= 2);
    expect(
      forAllOfPatient()
        .map((alert) => alert.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect((await measures.until(1))[0].measureRecorded).toEqual({ id: recorded.id, totalScore: 22 });

    // A refused measure raises nothing; the therapist leaves the team and hears nothing more.
    await expectCode(record(prescriber, patientId, [9]), 'BAD_USER_INPUT');
    const therapistId = (await therapist.http.request(MeDocument)).me.id;
    await prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: therapistId });
    const later = (await record(prescriber, patientId, phq9(3, 1))).recordMeasure;
    // A PHQ-9 of 3 after a baseline of 22 raises more than the item-9 alert (response, remission).
    const expected = [...ids, ...later.alerts.map((a) => a.id)];
    await eventually(() => forAllOfPatient().length >= expected.length);
    // Each once, and nothing else of this patient's.
    expect(
      forAllOfPatient()
        .map((alert) => alert.id)
        .sort(),
    ).toEqual(expected.sort());
    expect(forPatient.received).toHaveLength(2);
  });

  it('raises nothing for a measure whose transaction rolls back after its NOTIFY was queued', async () => {
    const patientId = await newPatient();
    const base = server.app.liveSubscriptions();
    const live = collect(server.ws(therapist.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 1);
    // Everything PostgreSQL delivers on the channel, seen by a plain LISTEN of the test's own.
    const listener = new pg.Client({ connectionString: server.databaseUrl });
    const notified: string[] = [];
    await listener.connect();
    listener.on('notification', (message) => notified.push(message.payload ?? ''));
    await listener.query('listen kap_events');
    try {
      // A deferred constraint trigger fails the transaction at COMMIT, after recordMeasure stored the
      // measure and its alert and queued their NOTIFYs.
      await server.sql(
        `create function fail_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`,
      );
      await server.sql(
        `create constraint trigger fail_at_commit after insert on measure deferrable initially deferred for each row when (new.patient_id = '${patientId}') execute function fail_at_commit()`,
      );
      try {
        await expect(record(prescriber, patientId, phq9(3, 1))).rejects.toThrow();
      } finally {
        await server.sql('drop trigger fail_at_commit on measure');
        await server.sql('drop function fail_at_commit()');
      }
      const later = (await record(prescriber, patientId, phq9(4, 1))).recordMeasure;
      const [first] = await live.until(1);
      expect(first.scoreAlert.id).toBe(later.alerts[0].id);
      await eventually(() => notified.length === 2);
      expect(notified.map((n) => JSON.parse(n).id).sort()).toEqual([later.id, later.alerts[0].id].sort());
      expect(
        await server.sql('select count(*)::int as n from measure where patient_id = $1', [patientId]),
      ).toEqual([{ n: 1 }]);
    } finally {
      await listener.end();
    }
  });

  it('lets go of an unsubscribed client at once, even while its patient stays quiet', async () => {
    const patientId = await newPatient();
    const base = server.app.liveSubscriptions();
    const live = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 1);
    live.stop();
    await eventually(() => server.app.liveSubscriptions() === base);
  });

  it('audits each subscriber as itself when alike subscriptions share one execution', async () => {
    const patientId = await newPatient();
    // Colleagues of their own: an all-patients subscription of the shared prescriber is still open.
    const [first, second] = [
      await server.clinician(Role.PRESCRIBER),
      await server.clinician(Role.PRESCRIBER),
    ];
    for (const colleague of [first, second]) {
      await colleague.http.request(MeDocument);
      await prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: colleague.email });
    }
    const base = server.app.liveSubscriptions();
    const watchers = [first, second, therapist].map((c) =>
      collect(server.ws(c.token), ScoreAlertsDocument, { patientId }),
    );
    await eventually(() => server.app.liveSubscriptions() === base + 3);

    const measure = (await record(therapist, patientId, phq9(3, 1))).recordMeasure;
    const alertId = measure.alerts[0].id;
    const got = await Promise.all(watchers.map((w) => w.until(1)));
    expect(got.map(([r]) => r.scoreAlert)).toEqual(
      Array(3).fill({
        id: alertId,
        kind: 'SUICIDAL_IDEATION',
        level: 'CRITICAL',
        patient: { id: patientId },
        measure: { id: measure.id },
      }),
    );

    const rows = await server.sql<{ sub: string; action: string; n: number }>(
      `select c.sub, a.action, count(*)::int as n from audit_event a join clinician c on c.id = a.clinician_id
       where a.patient_id = $1 and c.sub = any($4) and a.at > now() - interval '1 minute'
         and ((a.action = 'alert.read' and a.entity_id = $2) or (a.action = 'measure.read' and a.entity_id = $3) or a.action = 'patient.read')
       group by c.sub, a.action order by c.sub, a.action`,
      [patientId, alertId, measure.id, [first.sub, second.sub, therapist.sub]],
    );
    // Every subscriber read the alert and, through it, the patient and the measure; the therapist
    // also read the alert and the patient in the recordMeasure answer.
    const expected = [
      { sub: first.sub, action: 'alert.read', n: 1 },
      { sub: first.sub, action: 'measure.read', n: 1 },
      { sub: first.sub, action: 'patient.read', n: 1 },
      { sub: second.sub, action: 'alert.read', n: 1 },
      { sub: second.sub, action: 'measure.read', n: 1 },
      { sub: second.sub, action: 'patient.read', n: 1 },
      { sub: therapist.sub, action: 'alert.read', n: 2 },
      { sub: therapist.sub, action: 'measure.read', n: 1 },
      { sub: therapist.sub, action: 'patient.read', n: 2 },
    ].sort((a, b) => `${a.sub} ${a.action}`.localeCompare(`${b.sub} ${b.action}`));
    expect(rows).toEqual(expected);
  });

  it('sends nothing to a subscriber whose delivery could not be audited, and ends its subscription with an error', async () => {
    const patientId = await newPatient();
    const colleague = await server.clinician(Role.PRESCRIBER);
    const { me } = await colleague.http.request(MeDocument);
    await prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: colleague.email });
    const base = server.app.liveSubscriptions();
    const watcher = collect(server.ws(colleague.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 1);
    // The database refuses this clinician's audit rows, as a full disk or a lost connection would.
    await server.sql(
      `create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused'; end $$`,
    );
    await server.sql(
      `create trigger refuse_audit before insert on audit_event for each row when (new.clinician_id = '${me.id}') execute function refuse_audit()`,
    );
    try {
      // Asking for the id alone: an answer that reads nothing has no read audit of its own to share
      // the refused INSERT with the subscriber's.
      await prescriber.http.request(
        `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id } }`,
        {
          input: { patientId, instrument: 'PHQ9', responses: phq9(3, 1) },
        },
      );
      await eventually(() => watcher.errors.length > 0);
    } finally {
      await server.sql('drop trigger refuse_audit on audit_event');
      await server.sql('drop function refuse_audit()');
    }
    expect(watcher.received).toEqual([]);
    // The operation ends with graphql-ws's `error` message, saying no more than any internal error;
    // the client resubscribes and catches up through alerts(after:). (Subscriptions left open by
    // other tests whose rows shared the refused INSERT end too: audited together, refused together.)
    expect(watcher.errors).toEqual([
      [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    ]);
    await eventually(() => server.app.liveSubscriptions() <= base);
  });

  it('delivers each alert exactly once to more subscriptions than one audit insert covers, across sockets and roles', async () => {
    const patientId = await newPatient();
    const base = server.app.liveSubscriptions();
    const sockets = [server.ws(prescriber.token), server.ws(therapist.token), server.ws(prescriber.token)];
    // Two roles, so two shared executions; the prescribers' 400 recipients are audited and sent in
    // two slices (src/graphql/sharedExecution.ts), the therapists' 200 in one.
    const watchers = Array.from({ length: 600 }, (_, i) =>
      collect(sockets[i % 3], ScoreAlertsDocument, { patientId }),
    );
    await eventually(() => server.app.liveSubscriptions() === base + 600);
    const recorded = [
      (await record(prescriber, patientId, phq9(3, 1))).recordMeasure,
      (await record(prescriber, patientId, phq9(4, 1))).recordMeasure,
    ];
    const expected = recorded.map((m) => m.alerts[0].id);
    for (const watcher of watchers)
      expect((await watcher.until(2)).map((r) => r.scoreAlert.id)).toEqual(expected);
    // Nothing more arrives: a third alert is the next thing each of them sees.
    const third = (await record(prescriber, patientId, phq9(5, 1))).recordMeasure;
    for (const watcher of watchers)
      expect((await watcher.until(3)).map((r) => r.scoreAlert.id)).toEqual([...expected, third.alerts[0].id]);
    for (const watcher of watchers) watcher.stop();
    await eventually(() => server.app.liveSubscriptions() === base);
  });

  it('reaches a clinician who joins the care team, though the instance already kept that team in memory', async () => {
    const patientId = await newPatient();
    const newcomer = await server.clinician(Role.THERAPIST);
    await newcomer.http.request(MeDocument);
    const base = server.app.liveSubscriptions();
    const watch = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId });
    const forAll = collect(server.ws(newcomer.token), ScoreAlertsDocument, {});
    await eventually(() => server.app.liveSubscriptions() === base + 2);

    // Checked against the team before the newcomer joined: not theirs.
    const before = (await record(prescriber, patientId, phq9(3, 1))).recordMeasure;
    await watch.until(1);
    await prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: newcomer.email });
    const after = (await record(prescriber, patientId, phq9(4, 1))).recordMeasure;
    await watch.until(2);
    expect((await forAll.until(1)).map((r) => r.scoreAlert.id)).toEqual([after.alerts[0].id]);
    expect(forAll.received.map((r) => r.scoreAlert.id)).not.toContain(before.alerts[0].id);
  });

  it('ends a one-patient subscription only when the database, not the team kept in memory, says the caller left', async () => {
    const patientId = await newPatient();
    const latecomer = await server.clinician(Role.THERAPIST);
    const latecomerId = (await latecomer.http.request(MeDocument)).me.id;
    const base = server.app.liveSubscriptions();
    const watch = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 1);
    await record(prescriber, patientId, phq9(3, 1));
    await watch.until(1);
    // Joined without an announcement, as when an event committed before the joining reaches this
    // instance after the latecomer subscribed: the team in memory does not list them.
    await server.sql(
      `insert into care_team_member (id, patient_id, clinician_id, role, added_at) values (gen_random_uuid(), $1, $2, 'THERAPIST', now())`,
      [patientId, latecomerId],
    );
    const live = collect(server.ws(latecomer.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 2);
    const recorded = (await record(prescriber, patientId, phq9(4, 1))).recordMeasure;
    expect((await live.until(1)).map((r) => r.scoreAlert.id)).toEqual([recorded.alerts[0].id]);
  });

  it('forgets the care teams it kept when its LISTEN connection was lost, as changes may have gone unheard', async () => {
    const [first, second] = [await newPatient(), await newPatient()];
    const watcher = await server.clinician(Role.THERAPIST);
    const watcherId = (await watcher.http.request(MeDocument)).me.id;
    for (const patientId of [first, second])
      await prescriber.http.request(AddCareTeamMemberDocument, { patientId, email: watcher.email });
    const base = server.app.liveSubscriptions();
    const watch = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId: first });
    const forAll = collect(server.ws(watcher.token), ScoreAlertsDocument, {});
    await eventually(() => server.app.liveSubscriptions() === base + 2);
    const heard = (await record(prescriber, first, phq9(3, 1))).recordMeasure;
    await forAll.until(1);

    // The watcher leaves the first team in a way no instance hears of, as a removal announced while
    // the connection was down would go unheard; and the connection drops.
    await server.sql(
      `with gone as (delete from care_team_member where patient_id = $1 and clinician_id = $2 returning 1)
       select pg_terminate_backend(pid) from pg_stat_activity where application_name = $3 and datname = current_database()`,
      [first, watcherId, EVENT_HUB_APPLICATION],
    );
    const unheard = (await record(prescriber, first, phq9(4, 1))).recordMeasure;
    await watch.until(2);
    // Events reach one subscription in order: once the second patient's alert is there, the first's
    // has been decided.
    const marker = (await record(prescriber, second, phq9(3, 1))).recordMeasure;
    await forAll.until(2);
    expect(forAll.received.map((r) => r.scoreAlert.id)).toEqual([heard.alerts[0].id, marker.alerts[0].id]);
    expect(watch.received.map((r) => r.scoreAlert.id)).toContain(unheard.alerts[0].id);
  });

  it("refuses a subscription to a patient off the caller's care team", async () => {
    const patientId = await newPatient();
    const refused = collect(server.ws(outsider.token), ScoreAlertsDocument, { patientId });
    await eventually(() => refused.errors.length > 0);
    expect(JSON.stringify(refused.errors)).toContain('FORBIDDEN');
  });

  it('reaches a subscriber on another instance on the same database', async () => {
    const other = await startTestServer({ databaseUrl: server.databaseUrl });
    try {
      const patientId = await newPatient();
      const base = other.app.liveSubscriptions();
      const remote = collect(other.ws(therapist.token), ScoreAlertsDocument, { patientId });
      await eventually(() => other.app.liveSubscriptions() === base + 1);
      const recorded = (await record(prescriber, patientId, phq9(3, 1))).recordMeasure;
      expect((await remote.until(1))[0].scoreAlert.id).toBe(recorded.alerts[0].id);
    } finally {
      await other.close();
    }
  });

  it('reconnects a lost LISTEN connection by itself and catches up, exactly once', async () => {
    const patientId = await newPatient();
    const base = server.app.liveSubscriptions();
    const live = collect(server.ws(prescriber.token), ScoreAlertsDocument, { patientId });
    await eventually(() => server.app.liveSubscriptions() === base + 1);
    await server.sql(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
      [EVENT_HUB_APPLICATION],
    );
    const recorded = (await record(therapist, patientId, phq9(3, 2))).recordMeasure;
    const [got] = await live.until(1);
    expect(got.scoreAlert.id).toBe(recorded.alerts[0].id);
    const after = (await record(therapist, patientId, phq9(3, 1))).recordMeasure;
    await live.until(2);
    expect(live.received.map((r) => r.scoreAlert.id)).toEqual([recorded.alerts[0].id, after.alerts[0].id]);
  });
});

describe('audit of measures and alerts', () => {
  it('records the write of a measure and its alerts, and every read of them', async () => {
    // Clinicians of its own: live subscriptions left by other tests would audit their deliveries too.
    const nurse = await server.clinician(Role.PRESCRIBER);
    const { createPatient } = await nurse.http.request(CreatePatientDocument, {
      input: { firstName: 'A', lastName: 'B', dateOfBirth: '1970-01-01' },
    });
    const patientId = createPatient.id;
    const recorded = (await record(nurse, patientId, phq9(3, 1))).recordMeasure;
    await nurse.http.request(PatientMeasuresDocument, { id: patientId });
    await nurse.http.request(AcknowledgeAlertDocument, { id: recorded.alerts[0].id });
    const rows = await server.sql<{ action: string; entity_id: string }>(
      "select action, entity_id from audit_event where patient_id = $1 and action like any (array['measure.%', 'alert.%']) order by id",
      [patientId],
    );
    const actions = rows.map(
      (r) =>
        `${r.action} ${r.entity_id === recorded.id ? 'measure' : r.entity_id === recorded.alerts[0].id ? 'alert' : '?'}`,
    );
    expect(actions.slice(0, 3)).toEqual([
      'measure.create measure',
      'alert.create alert',
      // the mutation's own answer: its alerts
      'alert.read alert',
    ]);
    // The patient's measures, latest measures and alerts, resolved side by side: the measure both
    // lists show is one read of it.
    expect(actions.slice(3, 5).sort()).toEqual(['alert.read alert', 'measure.read measure']);
    expect(actions.slice(5)).toEqual(['alert.acknowledge alert']);
  });
});
