import { execSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { decideAlerts } from '../src/domain/alerts';
import { Instrument, scoreMeasure } from '../src/domain/instruments';
import { epochNow, RESPONSES, type WriteOutcome, type WriterStep } from './alertsNetworkWriter';
import {
  benchDatabase,
  cpuMeter,
  Deferred,
  inBatches,
  signer,
  sleep,
  startServerProcess,
  stopChild,
  summarize,
  withTimeout,
  type ServerProcess,
  type Summary,
} from './support';

const CLINICIANS = Number(process.env.BENCH_CLINICIANS ?? 1000);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 5000);
const RATES = (process.env.BENCH_RATES ?? '20,50,100,150,200,300').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 10);
/** How long after a step's last answer its missing receipts are waited for before they count as lost. */
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 20);
/**
 * Earlier PHQ-9 measures per patient (two weeks apart, each with its acknowledged alert), as a network
 * in use has. With empty tables the alert's reads were planned for tables of a few rows (sequential
 * scans), and that plan was kept while the tables grew, until PostgreSQL's first automatic analyze a
 * minute or so in: a benchmark of a network on its first day (BENCHMARKS.md, issue 19).
 */
const HISTORY = Math.min(6, Number(process.env.BENCH_HISTORY ?? 4));
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2').split(',').map(Number);
/** By default the ladder stops at the first saturated step; `BENCH_FULL_LADDER=1` climbs it all. */
const FULL_LADDER = process.env.BENCH_FULL_LADDER === '1';
/**
 * Which instance a clinician's socket lands on: by a hash of the clinician, as a balancer with sticky
 * sessions would (a team of 2 spans both of two instances half the time, of 3 three times in four), or
 * `BENCH_PLACEMENT=alternate`: clinician i on instance i mod n, so that with the consecutive teams every
 * team spans both instances and each alert is worked on by both, the worst case for the subscriber index.
 */
const PLACEMENT = process.env.BENCH_PLACEMENT === 'alternate' ? 'alternate' : 'hash';
const instanceOf = (clinician: number, instances: number) =>
  PLACEMENT === 'alternate'
    ? clinician % instances
    : createHash('sha256').update(`bench-${clinician}`).digest()[0] % instances;
/** A step is saturated when its p99 (write's answer → receipt) exceeds this. */
const P99_LIMIT_MS = 100;

const SUBSCRIPTION = `subscription { scoreAlert { id measure { id } } }`;

interface Team {
  patientId: string;
  /** Indices of the clinicians on the care team; the first records the measures. */
  members: number[];
}

export interface StepResult {
  instances: number;
  rate: number;
  written: number;
  refused: number;
  failed: number;
  /** Ticks the writer skipped because too many writes were unanswered. */
  skipped: number;
  expected: number;
  delivered: number;
  duplicates: number;
  misdelivered: number;
  latency?: Summary;
  /** CPU per alert written, in ms: each server instance, the PostgreSQL cluster, the writer, the subscribers' process. */
  cpu?: { servers: number[]; postgres: number; writer: number; clients: number };
  saturated: boolean;
}

export interface NetworkResult {
  clinicians: number;
  patients: number;
  memberships: number;
  stepSeconds: number;
  placement: string;
  load: { before: string; after: string };
  steps: StepResult[];
}

/**
 * Care teams of 2 and 3 in turn, of consecutive clinicians (so each team has a prescriber and a
 * therapist): 5,000 patients give 12,500 memberships, 12 or 13 teams per clinician of 1,000.
 */
function careTeams(patientIds: string[]): Team[] {
  let next = 0;
  return patientIds.map((patientId, i) => {
    const size = i % 2 === 0 ? 2 : 3;
    const members = Array.from({ length: size }, (_, j) => (next + j) % CLINICIANS);
    next += size;
    return { patientId, members };
  });
}

const roleOf = (clinician: number) => (clinician % 2 === 0 ? 'PRESCRIBER' : 'THERAPIST');
const claimsOf = (clinician: number) => ({
  sub: `bench-${clinician}`,
  email: `clinician${clinician}@bench.example`,
  name: `Clinician ${clinician}`,
  role: roleOf(clinician).toLowerCase(),
});

/** Clinicians, patients with an open course and their care teams, written straight into the server's tables. */
async function seed(admin: pg.Client): Promise<Team[]> {
  await admin.query(
    `insert into clinician (id, sub, email, name, role, created_at, updated_at)
     select uuidv7(), 'bench-' || i, 'clinician' || i || '@bench.example', 'Clinician ' || i, case when i % 2 = 0 then 'PRESCRIBER' else 'THERAPIST' end, now(), now()
     from generate_series(0, $1::int - 1) i`,
    [CLINICIANS],
  );
  const clinicianIds = (
    await admin.query<{ id: string }>(
      `select id from clinician where sub like 'bench-%' order by substr(sub, 7)::int`,
    )
  ).rows.map((r) => r.id);
  await admin.query(
    `insert into patient (id, first_name, last_name, date_of_birth, status, created_by_id, created_at, updated_at)
     select uuidv7(), 'Patient' || i, 'Bench', date '1950-01-01' + (i % 20000), 'ACTIVE', $2, now(), now() from generate_series(0, $1::int - 1) i`,
    [PATIENTS, clinicianIds[0]],
  );
  await admin.query(
    `insert into treatment_course (id, patient_id, number, opened_at, opened_by_id) select uuidv7(), id, 1, now() - interval '90 days', $1 from patient`,
    [clinicianIds[0]],
  );
  const patientIds = (
    await admin.query<{ id: string }>(`select id from patient order by substr(first_name, 8)::int`)
  ).rows.map((r) => r.id);
  const teams = careTeams(patientIds);
  const rows = teams.flatMap((team) =>
    team.members.map((member) => [team.patientId, clinicianIds[member], roleOf(member)]),
  );
  await admin.query(
    `insert into care_team_member (id, patient_id, clinician_id, role, added_at, added_by_id)
     select uuidv7(), p, c, r, now() - interval '90 days', $4 from unnest($1::uuid[], $2::uuid[], $3::text[]) as t(p, c, r)`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), clinicianIds[0]],
  );
  await seedHistory(
    admin,
    teams.map((team) => team.patientId),
    teams.map((team) => clinicianIds[team.members[0]]),
  );
  // Vacuumed too, as a network's settled tables are: otherwise PostgreSQL's first automatic vacuum of
  // everything just seeded lands in a step of the ladder.
  await admin.query('vacuum analyze');
  return teams;
}

/**
 * `HISTORY` measures per patient with the responses the writer records, recorded by the patient's
 * first team member in the open course, and their alerts as the rules decide them (the same one
 * alert for each, so the writer's measures still raise exactly one). Written with the triggers off
 * (`session_replication_role`): the running servers are not told of the past.
 */
async function seedHistory(admin: pg.Client, patientIds: string[], recorderIds: string[]): Promise<void> {
  const { total, severity } = scoreMeasure(Instrument.PHQ9, RESPONSES);
  const decisions = Array.from({ length: HISTORY + 1 }, (_, k) =>
    decideAlerts({
      instrument: Instrument.PHQ9,
      responses: RESPONSES,
      total,
      severity,
      previousTotal: k === 0 ? undefined : total,
      baselineTotal: k === 0 ? undefined : total,
      alreadyRaised: new Set(),
    }),
  );
  const [alert] = decisions[0];
  if (decisions.some((d) => d.length !== 1 || d[0].kind !== alert.kind))
    throw new Error('the history must raise one and the same alert per measure, as the writer expects');
  await admin.query('set session_replication_role = replica');
  await admin.query(
    `with earlier as (
       insert into measure (id, patient_id, course_id, instrument, responses, total_score, severity, administered_at, recorded_by_id, created_at)
       select uuidv7(), c.patient_id, c.id, 'PHQ9', $3::jsonb, $4, $5, now() - make_interval(days => 14 * k), t.recorder, now() - make_interval(days => 14 * k)
       from unnest($1::uuid[], $2::uuid[]) as t(patient, recorder)
       join treatment_course c on c.patient_id = t.patient
       cross join generate_series($6::int, 1, -1) as k
       returning *
     )
     insert into score_alert (id, patient_id, course_id, measure_id, instrument, kind, level, message, created_at, acknowledged_at, acknowledged_by_id)
     select uuidv7(), patient_id, course_id, id, instrument, $7, $8, $9, created_at, created_at + interval '1 hour', recorded_by_id from earlier`,
    [
      patientIds,
      recorderIds,
      JSON.stringify(RESPONSES),
      total,
      severity,
      HISTORY,
      alert.kind,
      alert.level,
      alert.message,
    ],
  );
  await admin.query('set session_replication_role = default');
}

/** The writer process (bench/alertsNetworkWriter.ts); `step` runs one step of the ladder in it. */
async function startWriter() {
  const child = spawn(process.execPath, [path.join(__dirname, 'alertsNetworkWriter.js')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
  });
  return {
    child,
    step: (step: WriterStep) =>
      new Promise<{ writes: WriteOutcome[]; skipped: number }>((resolve) => {
        child.once('message', (result: { writes: WriteOutcome[]; skipped: number }) => resolve(result));
        child.send(step);
      }),
  };
}

interface Receipt {
  clinician: number;
  at: number;
}

/**
 * Issue 19's benchmark: 1,000 clinicians each holding one `scoreAlert` subscription without patientId,
 * 5,000 patients on care teams of 2–3, and a writer process recording PHQ-9 measures (one CRITICAL
 * alert each) across all patients at a steady rate, in a ladder of steps; on one instance, then on two
 * over the same database (subscribers and writes split between them). Per step: what was delivered
 * of what the care teams should have received, duplicates, misdeliveries, latency from the write's
 * answer to each receipt, refused writes and CPU per alert.
 */
export async function alertsNetwork(log: (line: string) => void): Promise<NetworkResult> {
  const db = await benchDatabase();
  const admin = new pg.Client({ connectionString: db.url });
  const writer = await startWriter();
  const uptime = () =>
    execSync('uptime')
      .toString()
      .trim()
      .replace(/.*load average:\s*/, '');
  const steps: StepResult[] = [];
  let teams: Team[] | undefined;
  let next = 0;
  const loadBefore = uptime();
  try {
    for (const instances of INSTANCES) {
      const servers: ServerProcess[] = [];
      const clients: Client[] = [];
      try {
        for (let i = 0; i < instances; i++)
          servers.push(await startServerProcess(db.url, { NODE_ENV: 'production' }));
        if (!teams) {
          await admin.connect();
          log(
            `  seeding ${CLINICIANS} clinicians, ${PATIENTS} patients, their care teams and ${HISTORY} earlier measures each…`,
          );
          teams = await seed(admin);
        }
        const known = teams;
        const patients = known.map((team) => ({ id: team.patientId, recorder: claimsOf(team.members[0]) }));
        const onTeam = known.map((team) => new Set(team.members));
        const byMeasure = new Map<string, Receipt[]>();
        let lastReceiptAt = 0;
        const heard = new Set<number>();
        const sign = await signer();
        log(`  ${instances} instance(s): opening ${CLINICIANS} graphql-ws subscriptions…`);
        await inBatches(
          Array.from({ length: CLINICIANS }, (_, i) => i),
          50,
          async (clinician) => {
            const token = await sign(claimsOf(clinician));
            const opened = new Deferred();
            const client = createClient({
              url: `${servers[instanceOf(clinician, instances)].wsUrl}/graphql`,
              webSocketImpl: WebSocket,
              connectionParams: { authorization: `Bearer ${token}` },
              retryAttempts: 0,
              lazy: false,
              on: { connected: () => opened.resolve() },
            });
            clients.push(client);
            client.subscribe<{ scoreAlert: { measure: { id: string } } }>(
              { query: SUBSCRIPTION },
              {
                next: (result) => {
                  const at = epochNow();
                  if (!result.data) return log(`  subscription error: ${JSON.stringify(result.errors)}`);
                  const list = byMeasure.get(result.data.scoreAlert.measure.id) ?? [];
                  list.push({ clinician, at });
                  byMeasure.set(result.data.scoreAlert.measure.id, list);
                  lastReceiptAt = at;
                  heard.add(clinician);
                },
                error: (error) => log(`  subscription failed: ${String(error)}`),
                complete: () => undefined,
              },
            );
            await withTimeout(opened.promise, 30_000, `clinician ${clinician}'s connection`);
          },
        );
        const urls = servers.map((s) => s.url);

        // Warm-up until every subscription is live (graphql-ws does not acknowledge a subscribe): any
        // 40 % of the patients' teams cover every clinician; later rounds write only for a patient of
        // each clinician not heard yet (a write may be refused while delivery is behind).
        const warmPatients = Math.ceil((CLINICIANS / 2.5) * 1.01);
        const patientOf = new Map<number, number>();
        known.forEach((team, index) => {
          for (const member of team.members) if (!patientOf.has(member)) patientOf.set(member, index);
        });
        for (let round = 0; heard.size < CLINICIANS; round++) {
          if (round >= 10) throw new Error(`only ${heard.size} of ${CLINICIANS} subscribers live`);
          const targets =
            round === 0
              ? patients
              : [
                  ...new Set(
                    Array.from({ length: CLINICIANS }, (_, c) => c)
                      .filter((c) => !heard.has(c))
                      .map((c) => patientOf.get(c)!),
                  ),
                ].map((index) => patients[index]);
          const { writes } = await writer.step({
            urls,
            patients: targets,
            start: round === 0 ? next : 0,
            rate: 25,
            seconds: (round === 0 ? warmPatients : targets.length) / 25,
          });
          if (round === 0) next += writes.length;
          const quietFrom = epochNow();
          while (epochNow() - Math.max(quietFrom, lastReceiptAt) < 2_000) await sleep(100);
          const refused = writes.filter((w) => w.status === 503).length;
          log(
            `  warm-up ${round + 1}: ${heard.size} of ${CLINICIANS} subscribers heard (${refused} of ${writes.length} writes refused)`,
          );
        }
        byMeasure.clear();

        for (const rate of RATES) {
          const meters = servers.map((s) => cpuMeter(s.child));
          const writerMeter = cpuMeter(writer.child);
          const before = { servers: meters.map((m) => m?.()), writer: writerMeter?.() };
          const { writes, skipped } = await writer.step({
            urls,
            patients,
            start: next,
            rate,
            seconds: STEP_SECONDS,
          });
          next += Math.round(rate * STEP_SECONDS);
          const ok = writes.filter((w) => w.status === 200 && w.measureId);
          const expected = ok.reduce((sum, w) => sum + known[w.patient].members.length, 0);
          const received = () => ok.reduce((sum, w) => sum + (byMeasure.get(w.measureId!)?.length ?? 0), 0);
          // Drained: everything expected is in, or nothing has arrived for DRAIN_SECONDS.
          const drainFrom = epochNow();
          while (
            received() < expected &&
            epochNow() - Math.max(drainFrom, lastReceiptAt) < DRAIN_SECONDS * 1000
          )
            await sleep(100);
          await sleep(500); // late duplicates or misdeliveries
          const after = { servers: meters.map((m) => m?.()), writer: writerMeter?.() };

          let delivered = 0;
          let duplicates = 0;
          let misdelivered = 0;
          const latencies: number[] = [];
          for (const w of ok) {
            const seen = new Set<number>();
            for (const receipt of byMeasure.get(w.measureId!) ?? []) {
              if (!onTeam[w.patient].has(receipt.clinician)) misdelivered++;
              else if (seen.has(receipt.clinician)) duplicates++;
              else {
                seen.add(receipt.clinician);
                delivered++;
                latencies.push(Math.max(0, receipt.at - w.respondedAt));
              }
            }
            byMeasure.delete(w.measureId!);
          }
          const unmatched = [...byMeasure.values()].reduce((sum, list) => sum + list.length, 0);
          if (unmatched > 0) log(`  ${unmatched} receipts of alerts whose write got no answer with an id`);
          byMeasure.clear();
          const refused = writes.filter((w) => w.status === 503).length;
          const failed = writes.length - ok.length - refused;
          const latency = latencies.length > 0 ? summarize(latencies) : undefined;
          const per = (delta: number) => (ok.length > 0 ? delta / ok.length : 0);
          const cpu =
            before.writer && after.writer && before.servers.every(Boolean)
              ? {
                  servers: before.servers.map((b, i) => per(after.servers[i]!.child - b!.child)),
                  postgres: per(after.servers[0]!.postgres - before.servers[0]!.postgres),
                  writer: per(after.writer.child - before.writer.child),
                  clients: per(after.writer.self - before.writer.self),
                }
              : undefined;
          const saturated =
            refused > 0 ||
            failed > 0 ||
            skipped > 0 ||
            delivered < expected ||
            (latency?.p99 ?? Infinity) > P99_LIMIT_MS;
          const step: StepResult = {
            instances,
            rate,
            written: ok.length,
            refused,
            failed,
            skipped,
            expected,
            delivered,
            duplicates,
            misdelivered,
            latency,
            cpu,
            saturated,
          };
          steps.push(step);
          log(`  ${formatStep(step)}`);
          if (saturated && !FULL_LADDER) break;
        }
      } finally {
        await Promise.all(clients.map(async (client) => client.dispose()));
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    const memberships = teams!.reduce((sum, team) => sum + team.members.length, 0);
    return {
      clinicians: CLINICIANS,
      patients: PATIENTS,
      memberships,
      stepSeconds: STEP_SECONDS,
      placement: PLACEMENT === 'alternate' ? 'clinician number mod instances' : 'a hash of the clinician',
      load: { before: loadBefore, after: uptime() },
      steps,
    };
  } finally {
    await stopChild(writer.child);
    await admin.end().catch(() => undefined);
    await db.stop();
  }
}

const fixed = (value: number) => value.toFixed(1);

function formatStep(step: StepResult): string {
  const latency = step.latency
    ? `${fixed(step.latency.p50)} / ${fixed(step.latency.p99)} / ${fixed(step.latency.max)} ms`
    : '—';
  const cpu = step.cpu
    ? `${step.cpu.servers.map(fixed).join(' + ')} ms | ${fixed(step.cpu.postgres)} ms | ${fixed(step.cpu.writer)} ms | ${fixed(step.cpu.clients)} ms`
    : '— | — | — | —';
  return (
    `| ${step.instances} | ${step.rate} | ${step.written} | ${step.refused}${step.failed ? ` (+${step.failed} failed)` : ''}${step.skipped ? ` (+${step.skipped} not sent)` : ''} | ` +
    `${step.delivered} / ${step.expected} | ${step.duplicates} | ${step.misdelivered} | ${latency} | ${cpu} | ${step.saturated ? 'yes' : ''} |`
  );
}

export function formatNetwork(result: NetworkResult): string[] {
  const saturation = [...new Set(result.steps.map((s) => s.instances))].map((instances) => {
    const ladder = result.steps.filter((s) => s.instances === instances);
    const first = ladder.find((s) => s.saturated);
    const last = ladder.filter((s) => !s.saturated).at(-1);
    return `${instances} instance(s): ${first ? `saturates at ${first.rate}/s` : `not saturated up to ${ladder.at(-1)?.rate ?? 0}/s`}${last ? ` (highest rate met: ${last.rate}/s)` : ''}`;
  });
  return [
    `${result.clinicians} clinicians, ${result.patients} patients (${result.memberships} care-team memberships, ${HISTORY} earlier measures and alerts each), one \`scoreAlert\` subscription per clinician; ` +
      `PHQ-9 measures (one SUICIDAL_IDEATION alert each) from a writer process, ${result.stepSeconds} s per step; sockets placed on instances by ${result.placement}. Load average ${result.load.before} before, ${result.load.after} after.`,
    ``,
    `| instances | measures/s | written | refused (503) | delivered / expected | duplicates | misdelivered | p50 / p99 / max (answer → receipt) | server CPU per alert | PostgreSQL | writer | subscribers | saturated |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
    ...result.steps.map(formatStep),
    ``,
    `Saturated: p99 over ${P99_LIMIT_MS} ms, anything undelivered, or any write refused. ${saturation.join('; ')}.`,
  ];
}
