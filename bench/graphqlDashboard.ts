import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { benchDatabase, cpuMeter, graphql, signer, startServerProcess, stopChild } from './support';

// autocannon ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 2000);
const MEASURES = Number(process.env.BENCH_MEASURES ?? 10);
const PAGE = Number(process.env.BENCH_PAGE ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 15);
const CONNECTIONS = 10;

/** The dashboard every front end opens on (issue 15), as each server spells it. */
export const DASHBOARD = `query Dashboard($first: Int!) { patients(first: $first) { edges { node { id firstName lastName status
  careTeam { role clinician { name } } latestMeasures { instrument totalScore severity administeredAt } } }
  pageInfo { hasNextPage endCursor } } }`;
const POSTGRAPHILE_DASHBOARD = `query Dashboard($first: Int!) { patients: allPatients(first: $first, orderBy: PRIMARY_KEY_ASC) { edges { node { id firstName lastName status
  careTeam: careTeamMembersByPatientIdList(orderBy: [ADDED_AT_ASC, ID_ASC]) { role clinician: clinicianByClinicianId { name } }
  latestMeasures: latestMeasuresList { instrument totalScore severity administeredAt } } }
  pageInfo { hasNextPage endCursor } } }`;

/** One patient's view (issue 15): care team, 20 newest measures, open alerts. */
export const PATIENT = `query Patient($id: ID!) { patient(id: $id) { id firstName lastName status careTeam { role clinician { name } }
  measures(first: 20) { edges { node { id instrument totalScore severity administeredAt } } } alerts { id kind level message } } }`;
const POSTGRAPHILE_PATIENT = `query Patient($id: UUID!) { patient: patientById(id: $id) { id firstName lastName status
  careTeam: careTeamMembersByPatientIdList(orderBy: [ADDED_AT_ASC, ID_ASC]) { role clinician: clinicianByClinicianId { name } }
  measures: measuresByPatientId(first: 20, orderBy: [ADMINISTERED_AT_DESC, ID_DESC]) { edges { node { id instrument totalScore severity administeredAt } } }
  alerts: scoreAlertsByPatientIdList(condition: { acknowledgedAt: null }, orderBy: [ID_DESC]) { id kind level message } } }`;

/** A workload: the operation as this server (and the floor) and as PostGraphile spell it. */
interface Workload {
  title: string;
  query: string;
  postgraphileQuery: string;
  variables(patientId: string): Record<string, unknown>;
  /** What the answer shows, in a form the three servers must agree on. */
  shape(data: any): unknown;
}

const WORKLOADS: Record<'dashboard' | 'patient', Workload> = {
  dashboard: {
    title: `Dashboard page: ${PAGE} of ${PATIENTS} patients (care team, latest measures; ${MEASURES} measures each)`,
    query: DASHBOARD,
    postgraphileQuery: POSTGRAPHILE_DASHBOARD,
    variables: () => ({ first: PAGE }),
    shape: (data) => shape(data),
  },
  patient: {
    title: `One patient's view (care team, measures(first: 20) of its ${MEASURES}, open alerts), of ${PATIENTS} patients`,
    query: PATIENT,
    postgraphileQuery: POSTGRAPHILE_PATIENT,
    variables: (id) => ({ id }),
    shape: ({ patient }) => ({
      id: patient.id,
      careTeam: patient.careTeam.map((m: any) => `${m.role} ${m.clinician.name}`),
      measures: patient.measures.edges.map(
        ({ node }: any) => `${node.id} ${node.totalScore} ${new Date(node.administeredAt).toISOString()}`,
      ),
      alerts: patient.alerts.map((a: any) => `${a.id} ${a.kind} ${a.level} ${a.message}`),
    }),
  },
};

/**
 * 2,000 patients on one prescriber's care teams, each with the prescriber and a therapist and ten
 * PHQ-9/GAD-7 measures, written straight into the server's tables (the API would take minutes).
 */
const seed = (prescriber: string, therapist: string) =>
  `
insert into patient (id, first_name, last_name, date_of_birth, status, created_by_id, created_at, updated_at)
select uuidv7(), 'Patient' || i, 'Bench', date '1980-01-01' + i, 'ACTIVE', $1, now(), now() from generate_series(1, ${PATIENTS}) i;
insert into treatment_course (id, patient_id, number, opened_at, opened_by_id) select uuidv7(), id, 1, now() - interval '90 days', $1 from patient;
insert into care_team_member (id, patient_id, clinician_id, role, added_at, added_by_id)
select uuidv7(), id, $1, 'PRESCRIBER', now() - interval '90 days', $1 from patient
union all select uuidv7(), id, $2, 'THERAPIST', now() - interval '89 days', $1 from patient;
insert into measure (id, patient_id, course_id, instrument, responses, total_score, severity, administered_at, recorded_by_id, created_at)
select uuidv7(), c.patient_id, c.id, case when k % 2 = 0 then 'PHQ9' else 'GAD7' end,
  case when k % 2 = 0 then '[1,1,1,1,1,1,1,1,0]'::jsonb else '[1,1,1,1,1,1,0]'::jsonb end,
  case when k % 2 = 0 then 8 else 6 end, 'MILD', now() - (k || ' days')::interval, $1, now()
from treatment_course c cross join generate_series(1, ${MEASURES}) k;
insert into score_alert (id, patient_id, course_id, measure_id, instrument, kind, level, message, created_at)
select distinct on (m.patient_id) uuidv7(), m.patient_id, m.course_id, m.id, m.instrument, 'SEVERE_SYMPTOMS', 'WARNING', 'Severe symptoms', m.administered_at
from measure m order by m.patient_id, m.administered_at desc;
analyze;`
    .replaceAll('$1', `'${prescriber}'::uuid`)
    .replaceAll('$2', `'${therapist}'::uuid`);

/**
 * What PostGraphile needs to answer the same rows: a role that row-level security limits to the
 * caller's care teams (the claim `jwt.claims.sub` set by its pgSettings), and latestMeasures as a
 * computed column. The membership lookup is a security definer function, so the policies on the
 * care team do not recurse into themselves.
 */
const POSTGRAPHILE_SETUP = `
create role kap_bench_clinician nologin;
grant usage on schema public to kap_bench_clinician;
grant select on patient, care_team_member, clinician, measure, score_alert to kap_bench_clinician;
create function bench_my_patients() returns setof uuid stable security definer language sql as $$
  select m.patient_id from care_team_member m join clinician c on c.id = m.clinician_id where c.sub = current_setting('jwt.claims.sub', true)
$$;
create function patient_latest_measures(p patient) returns setof measure stable language sql as $$
  select distinct on (instrument) * from measure where patient_id = p.id order by instrument, administered_at desc, id desc
$$;
alter table patient enable row level security;
alter table care_team_member enable row level security;
alter table measure enable row level security;
alter table score_alert enable row level security;
create policy care_team on patient for select using (id in (select bench_my_patients()));
create policy care_team on care_team_member for select using (patient_id in (select bench_my_patients()));
create policy care_team on measure for select using (patient_id in (select bench_my_patients()));
create policy care_team on score_alert for select using (patient_id in (select bench_my_patients()));`;

export interface ServerRound {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
  /** Milliseconds of CPU per request. */
  serverCpu: number;
  postgresCpu: number;
  clientCpu: number;
  /** PostgreSQL transactions per request (pg_stat_database). */
  transactions: number;
  rssMiB: number;
}

export interface DashboardResult {
  title: string;
  load: string;
  rounds: ServerRound[][];
}

interface Target {
  name: string;
  url: string;
  child: ChildProcess;
  query: string;
}

/** PostGraphile's own install (bench/postgraphile), made on first use. */
function installPostGraphile() {
  const dir = path.join(__dirname, '..', '..', 'bench', 'postgraphile');
  if (!existsSync(path.join(dir, 'node_modules', 'postgraphile')))
    execSync('npm ci --no-audit --no-fund --loglevel=error', { cwd: dir, stdio: 'inherit' });
}

async function startBaseline(
  which: string,
  databaseUrl: string,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'graphqlBaselines.js'), which, databaseUrl], {
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /BASELINE (\d+)/.exec(out);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`${which} exited with ${code}:\n${out}`)));
  });
  return { url, child };
}

/** Milliseconds of CPU of /proc/<pid>/stat: its own, or with its reaped children's (cutime, cstime). */
function cpuOf(pid: number, withReaped = false): { ppid: number; ms: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const ticks = fields[11] + fields[12] + (withReaped ? fields[13] + fields[14] : 0);
  return { ppid: fields[1], ms: ticks * 10 };
}

/**
 * All the CPU the PostgreSQL cluster has used: the postmaster with the backends it has reaped, and
 * the backends open now. The pools open and close backends during a round, so a meter over the
 * backends found once (support's cpuMeter) would lose the time of those that exit.
 */
function postgresCpu(postmaster: number): number {
  let ms = cpuOf(postmaster, true)?.ms ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = cpuOf(Number(entry));
    if (stat?.ppid === postmaster) ms += stat.ms;
  }
  return ms;
}

function postmasterPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (text.includes('(postgres)') && cpuOf(Number(entry))?.ppid === process.pid) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  throw new Error('no PostgreSQL started by this process');
}

function rssMiB(pid: number | undefined): number {
  if (!pid || !existsSync(`/proc/${pid}/status`)) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** What the page shows, in a form the three servers must agree on. */
function shape(data: any): unknown {
  return {
    hasNextPage: data.patients.pageInfo.hasNextPage,
    patients: data.patients.edges.map(({ node }: any) => ({
      id: node.id,
      name: `${node.firstName} ${node.lastName} ${node.status}`,
      careTeam: node.careTeam.map((m: any) => `${m.role} ${m.clinician.name}`),
      latest: node.latestMeasures
        .map(
          (m: any) =>
            `${m.instrument} ${m.totalScore} ${m.severity} ${new Date(m.administeredAt).toISOString()}`,
        )
        .sort(),
    })),
  };
}

/**
 * `npm run bench graphql`: the dashboard page (50 of 2,000 patients, care team and latest measures)
 * against this server, PostGraphile 4.14 with row-level security, and the raw-SQL floor that also
 * stores the audit rows; autocannon with 10 connections, rounds alternating between the three.
 * Before timing, checks that the three answer the same page.
 */
export async function graphqlDashboard(
  log: (line: string) => void,
  which: keyof typeof WORKLOADS = 'dashboard',
): Promise<DashboardResult> {
  const workload = WORKLOADS[which];
  const db = await benchDatabase();
  const children: ChildProcess[] = [];
  const admin = new pg.Client({ connectionString: db.url });
  try {
    // As deployed: graphql-js (ours 16, PostGraphile's 15) checks types across realms outside production.
    const ours = await startServerProcess(db.url, { NODE_ENV: 'production' });
    children.push(ours.child);
    const sign = await signer();
    const prescriber = await sign({
      sub: 'bench-prescriber',
      email: 'prescriber@bench.test',
      name: 'Bench Prescriber',
      role: 'prescriber',
    });
    const therapist = await sign({
      sub: 'bench-therapist',
      email: 'therapist@bench.test',
      name: 'Bench Therapist',
      role: 'therapist',
    });
    const { me: p } = await graphql<{ me: { id: string } }>(ours.url, prescriber, '{ me { id } }');
    const { me: t } = await graphql<{ me: { id: string } }>(ours.url, therapist, '{ me { id } }');
    await admin.connect();
    log(`  seeding ${PATIENTS} patients with ${MEASURES} measures each`);
    await admin.query(seed(p.id, t.id));
    await admin.query(POSTGRAPHILE_SETUP);
    installPostGraphile();
    const postgraphile = await startBaseline('postgraphile', db.url);
    children.push(postgraphile.child);
    const floor = await startBaseline('floor', db.url);
    children.push(floor.child);

    const targets: Target[] = [
      { name: 'this server', url: ours.url, child: ours.child, query: workload.query },
      {
        name: 'PostGraphile 4.14 (RLS, no audit)',
        url: postgraphile.url,
        child: postgraphile.child,
        query: workload.postgraphileQuery,
      },
      {
        name: 'node:http + pg, one statement with audit',
        url: floor.url,
        child: floor.child,
        query: workload.query,
      },
    ];
    // The patient view reads a patient from the middle of the list.
    const patientId = (
      await admin.query<{ id: string }>('select id from patient order by id offset $1 limit 1', [
        Math.floor(PATIENTS / 2),
      ])
    ).rows[0].id;
    const variables = workload.variables(patientId);
    const answers = await Promise.all(
      targets.map(async (target) =>
        JSON.stringify(workload.shape(await graphql(target.url, prescriber, target.query, variables))),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      if (answer !== answers[0])
        throw new Error(
          `${targets[i].name} answers another page than ${targets[0].name}:\n${answer.slice(0, 600)}\n${answers[0].slice(0, 600)}`,
        );
    }
    if (!answers[0].includes('THERAPIST Bench Therapist'))
      throw new Error(`unexpected answer: ${answers[0].slice(0, 300)}`);
    log(`  the three answer the same: ${answers[0].slice(0, 120)}…`);

    const transactions = async () =>
      Number(
        (
          await admin.query<{ n: string }>(
            'select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = current_database()',
          )
        ).rows[0].n,
      );
    const body = (query: string) => JSON.stringify({ query, variables });
    const load = (target: Target, seconds: number) =>
      autocannon({
        url: `${target.url}/graphql`,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${prescriber}` },
        body: body(target.query),
      });
    for (const target of targets) await load(target, 3);
    const uptime = () =>
      execSync('uptime')
        .toString()
        .trim()
        .replace(/.*load average:\s*/, '');
    const loadBefore = uptime();
    const rounds: ServerRound[][] = [];
    const postmaster = postmasterPid();
    for (let round = 1; round <= ROUNDS; round++) {
      const results: ServerRound[] = [];
      for (const target of targets) {
        // Found afresh each round: the servers' pools open and close PostgreSQL backends.
        const meter = cpuMeter(target.child)!;
        const cpu = meter();
        const postgresBefore = postgresCpu(postmaster);
        const xacts = await transactions();
        const result = await load(target, ROUND_SECONDS);
        const after = meter();
        const postgresAfter = postgresCpu(postmaster);
        // Statistics reach pg_stat_database when a backend goes idle, within a second.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const n = Math.max(1, result.requests.total);
        results.push({
          name: target.name,
          requestsPerSecond: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          failed: result.non2xx + result.errors,
          serverCpu: (after.child - cpu.child) / n,
          postgresCpu: (postgresAfter - postgresBefore) / n,
          clientCpu: (after.self - cpu.self) / n,
          transactions: ((await transactions()) - xacts - 1) / n,
          rssMiB: rssMiB(target.child.pid),
        });
        log(
          `  round ${round}, ${target.name}: ${result.requests.average} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
        );
      }
      rounds.push(results);
    }
    return {
      title: workload.title,
      load: `${loadBefore} before, ${uptime()} after (1, 5, 15 min; ${os.cpus().length} cores)`,
      rounds,
    };
  } finally {
    await admin.end().catch(() => undefined);
    await Promise.all(children.map((child) => stopChild(child)));
    await db.stop();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function formatDashboard(result: DashboardResult): string[] {
  const names = result.rounds[0].map((r) => r.name);
  const med = (i: number, pick: (r: ServerRound) => number) =>
    median(result.rounds.map((round) => pick(round[i])));
  const lines = [
    `${result.title}, autocannon ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s; medians of the rounds. Load average: ${result.load}.`,
    '',
    '| server | req/s | p50 | p99 | server CPU / req | PostgreSQL CPU / req | transactions / req | RSS | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    ...names.map(
      (name, i) =>
        `| ${name} | ${med(i, (r) => r.requestsPerSecond).toFixed(0)} | ${med(i, (r) => r.p50)} ms | ${med(i, (r) => r.p99)} ms | ${med(i, (r) => r.serverCpu).toFixed(1)} ms | ${med(i, (r) => r.postgresCpu).toFixed(1)} ms | ${med(i, (r) => r.transactions).toFixed(1)} | ${med(i, (r) => r.rssMiB).toFixed(0)} MiB | ${result.rounds.reduce((n, round) => n + round[i].failed, 0)} |`,
    ),
    '',
    ...result.rounds.map(
      (round, k) =>
        `Round ${k + 1}: ours ${round[0].requestsPerSecond.toFixed(0)} req/s = ${(round[0].requestsPerSecond / round[1].requestsPerSecond).toFixed(2)}× PostGraphile, ${(round[0].requestsPerSecond / round[2].requestsPerSecond).toFixed(2)}× the floor with audit.`,
    ),
  ];
  return lines;
}
