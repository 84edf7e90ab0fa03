import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  benchDatabase,
  cpuMeter,
  Deferred,
  graphql,
  inBatches,
  ms,
  signer,
  sleep,
  startServerProcess,
  stopChild,
  summarize,
  withTimeout,
  type CpuSample,
  type Summary,
} from './support';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const MEASURES = Number(process.env.BENCH_MEASURES ?? 100);

const SUBSCRIPTION = `subscription ($patientId: ID!) {
  scoreAlert(patientId: $patientId) { id kind level message createdAt measure { id totalScore severity } }
}`;
const RECORD = `mutation ($input: RecordMeasureInput!) { recordMeasure(input: $input) { id } }`;
// Item 9 answered 1, total 1: exactly one alert (SUICIDAL_IDEATION) per measure.
const RESPONSES = [0, 0, 0, 0, 0, 0, 0, 0, 1];

export interface FanoutResult {
  subscribers: number;
  rounds: number;
  graphqlWs: Summary;
  /** Per measure, the first and the last of its receipts: when sending starts, and when it is done. */
  firstReceipt: Summary;
  lastReceipt: Summary;
  bareWs: Summary;
  /** Receipts that arrived before the mutation's response did (counted as 0 ms). */
  beforeResponse: number;
  /** CPU per round, in ms, where /proc tells it. */
  cpu?: { server: number; postgres: number; clients: number; floorServer: number; floorClients: number };
}

/**
 * Issue 3's benchmark: 1,000 graphql-ws subscribers on one patient's care team, 100 measures recorded
 * one at a time; time from each `recordMeasure` response to each subscriber's receipt of the alert.
 * The floor is the same payload broadcast over bare `ws` sockets to as many clients, in the same run:
 * its rounds alternate with the measures', so both see the same moments of a shared machine.
 */
export async function alertFanout(log: (line: string) => void): Promise<FanoutResult> {
  const db = await benchDatabase();
  const server = await startServerProcess(db.url);
  const sign = await signer();
  const clients: Client[] = [];
  try {
    const prescriber = await sign({
      sub: 'bench-prescriber',
      email: 'prescriber@bench.example',
      name: 'Bench Prescriber',
      role: 'prescriber',
    });
    const { createPatient } = await graphql(
      server.url,
      prescriber,
      `
        mutation {
          createPatient(input: { firstName: "Bench", lastName: "Patient", dateOfBirth: "1980-01-01" }) {
            id
          }
        }
      `,
    );
    const patientId: string = createPatient.id;

    log(`  provisioning ${SUBSCRIBERS} clinicians on one care team…`);
    const tokens: string[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      tokens.push(
        await sign({
          sub: `bench-${i}`,
          email: `clinician${i}@bench.example`,
          name: `Clinician ${i}`,
          role: i % 2 ? 'therapist' : 'prescriber',
        }),
      );
    }
    await inBatches(tokens, 20, (token) => graphql(server.url, token, '{ me { id } }'));
    await inBatches(tokens, 1, (_token, i) =>
      graphql(
        server.url,
        prescriber,
        `
          mutation ($p: ID!, $e: String!) {
            addCareTeamMember(patientId: $p, email: $e) {
              id
            }
          }
        `,
        { p: patientId, e: `clinician${i}@bench.example` },
      ),
    );

    log(`  opening ${SUBSCRIBERS} graphql-ws subscriptions…`);
    const receipts = new Map<string, number[]>();
    let sample: string | undefined;
    let expect: { measureId: string; done: Deferred } | undefined;
    const onAlert = (alert: { measure: { id: string } }) => {
      const at = performance.now();
      const list = receipts.get(alert.measure.id) ?? [];
      list.push(at);
      receipts.set(alert.measure.id, list);
      if (expect && expect.measureId === alert.measure.id && list.length === SUBSCRIBERS)
        expect.done.resolve();
    };
    for (const token of tokens) {
      const client = createClient({
        url: `${server.wsUrl}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      clients.push(client);
      client.subscribe<{ scoreAlert: { measure: { id: string } } }>(
        { query: SUBSCRIPTION, variables: { patientId } },
        {
          next: (result) => {
            if (result.data) {
              sample ??= JSON.stringify({ id: '1', type: 'next', payload: result });
              onAlert(result.data.scoreAlert);
            } else log(`  subscription error: ${JSON.stringify(result.errors)}`);
          },
          error: (error) => log(`  subscription failed: ${String(error)}`),
          complete: () => undefined,
        },
      );
    }

    const record = async (): Promise<{ measureId: string; respondedAt: number }> => {
      const { recordMeasure } = await graphql(server.url, prescriber, RECORD, {
        input: { patientId, instrument: 'PHQ9', responses: RESPONSES },
      });
      return { measureId: recordMeasure.id, respondedAt: performance.now() };
    };
    // Warm-up rounds until every subscription is live (graphql-ws does not acknowledge a subscribe).
    for (let warm = 0; ; warm++) {
      const { measureId } = await record();
      const done = new Deferred();
      expect = { measureId, done };
      if ((receipts.get(measureId)?.length ?? 0) === SUBSCRIBERS) break;
      const ok = await Promise.race([done.promise.then(() => true), sleep(2_000).then(() => false)]);
      if (ok) break;
      if (warm > 30)
        throw new Error(`only ${receipts.get(measureId)?.length ?? 0} of ${SUBSCRIBERS} subscribers live`);
    }

    log(
      `  opening ${SUBSCRIBERS} bare ws clients for the floor, with the same ${sample!.length}-byte payload…`,
    );
    const floor = await openFloor(sample!);
    try {
      await floor.broadcast(); // warm-up

      log(`  ${MEASURES} rounds, each one measure recorded and one floor broadcast…`);
      const latencies: number[] = [];
      const floorLatencies: number[] = [];
      const firsts: number[] = [];
      const lasts: number[] = [];
      let beforeResponse = 0;
      const meters = { graphqlWs: cpuMeter(server.child), floor: cpuMeter(floor.child) };
      const cpu = { graphqlWs: zeroCpu(), floor: zeroCpu() };
      for (let round = 0; round < MEASURES; round++) {
        let before = meters.graphqlWs?.();
        const pending = new Deferred();
        // The receipts may start before the response arrives: collect under any id, match afterwards.
        expect = { measureId: '', done: pending };
        const { measureId, respondedAt } = await record();
        expect.measureId = measureId;
        if ((receipts.get(measureId)?.length ?? 0) < SUBSCRIBERS)
          await withTimeout(pending.promise, 30_000, `round ${round}`);
        addCpu(cpu.graphqlWs, before, meters.graphqlWs?.());
        const received = receipts.get(measureId)!.map((at) => at - respondedAt);
        for (const latency of received) {
          if (latency < 0) beforeResponse++;
          latencies.push(Math.max(0, latency));
        }
        firsts.push(Math.max(0, Math.min(...received)));
        lasts.push(Math.max(0, Math.max(...received)));
        receipts.delete(measureId);

        before = meters.floor?.();
        floorLatencies.push(...(await floor.broadcast()));
        addCpu(cpu.floor, before, meters.floor?.());
      }
      const perRound = (ms: number) => ms / MEASURES;
      return {
        subscribers: SUBSCRIBERS,
        rounds: MEASURES,
        graphqlWs: summarize(latencies),
        firstReceipt: summarize(firsts),
        lastReceipt: summarize(lasts),
        bareWs: summarize(floorLatencies),
        beforeResponse,
        cpu:
          meters.graphqlWs && meters.floor
            ? {
                server: perRound(cpu.graphqlWs.child),
                postgres: perRound(cpu.graphqlWs.postgres),
                clients: perRound(cpu.graphqlWs.self),
                floorServer: perRound(cpu.floor.child),
                floorClients: perRound(cpu.floor.self),
              }
            : undefined,
      };
    } finally {
      await floor.close();
    }
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
    await db.stop();
  }
}

const zeroCpu = (): CpuSample => ({ self: 0, child: 0, postgres: 0 });

function addCpu(total: CpuSample, before: CpuSample | undefined, after: CpuSample | undefined) {
  if (!before || !after) return;
  total.self += after.self - before.self;
  total.child += after.child - before.child;
  total.postgres += after.postgres - before.postgres;
}

/**
 * The floor: a bare `ws` server (bench/floorServer.ts, its own process, as the server under test
 * is) and as many plain `ws` clients, which parse each message as the graphql-ws clients do.
 * `broadcast` POSTs the payload and gives each client's receipt, timed from the response.
 */
async function openFloor(payload: string) {
  const child = spawn(process.execPath, [path.join(__dirname, 'floorServer.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sockets: WebSocket[] = [];
  const close = async () => {
    for (const socket of sockets) socket.close();
    await stopChild(child);
  };
  try {
    const port = await new Promise<string>((resolve) => {
      child.stdout!.on('data', (chunk) => {
        const match = /FLOOR (\d+)/.exec(String(chunk));
        if (match) resolve(match[1]);
      });
    });
    let done = new Deferred();
    const times: number[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`);
      socket.on('message', (data) => {
        JSON.parse(String(data));
        times.push(performance.now());
        if (times.length === SUBSCRIBERS) done.resolve();
      });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('open', resolve));
    }
    return {
      child,
      close,
      async broadcast(): Promise<number[]> {
        times.length = 0;
        done = new Deferred();
        const response = await fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST', body: payload });
        await response.arrayBuffer();
        const respondedAt = performance.now();
        await withTimeout(done.promise, 30_000, 'floor broadcast');
        return times.map((at) => Math.max(0, at - respondedAt));
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export function formatFanout(result: FanoutResult): string[] {
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  return [
    `| | p50 | p99 | max |`,
    `|---|---|---|---|`,
    `| graphql-ws \`scoreAlert\`, ${result.subscribers} subscribers × ${result.rounds} measures | ${ms(result.graphqlWs.p50)} | ${ms(result.graphqlWs.p99)} | ${ms(result.graphqlWs.max)} |`,
    `| … a measure's first receipt | ${ms(result.firstReceipt.p50)} | ${ms(result.firstReceipt.p99)} | ${ms(result.firstReceipt.max)} |`,
    `| … a measure's last receipt | ${ms(result.lastReceipt.p50)} | ${ms(result.lastReceipt.p99)} | ${ms(result.lastReceipt.max)} |`,
    `| bare \`ws\` broadcast (floor), same payload and clients | ${ms(result.bareWs.p50)} | ${ms(result.bareWs.p99)} | ${ms(result.bareWs.max)} |`,
    `| ratio to floor | ${ratio(result.graphqlWs.p50, result.bareWs.p50)} | ${ratio(result.graphqlWs.p99, result.bareWs.p99)} | ${ratio(result.graphqlWs.max, result.bareWs.max)} |`,
    ``,
    `${result.beforeResponse} of ${result.graphqlWs.n} receipts arrived before the \`recordMeasure\` response itself (counted as 0 ms).`,
    ...(result.cpu
      ? [
          ``,
          `CPU per round: server ${ms(result.cpu.server)}, PostgreSQL ${ms(result.cpu.postgres)}, the graphql-ws clients ${ms(result.cpu.clients)}; ` +
            `floor: server ${ms(result.cpu.floorServer)}, clients ${ms(result.cpu.floorClients)}.`,
        ]
      : []),
  ];
}
