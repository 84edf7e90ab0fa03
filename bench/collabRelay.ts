import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HocuspocusProvider } from '@hocuspocus/provider';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
  benchDatabase,
  Deferred,
  graphql,
  ms,
  signer,
  startServerProcess,
  stopChild,
  summarize,
  type Summary,
} from './support';

const EDITS = Number(process.env.BENCH_EDITS ?? 2000);
const OBSERVERS = Number(process.env.BENCH_OBSERVERS ?? 50);

export interface RelayResult {
  name: string;
  updatesPerSecond: number;
  latency: Summary;
}

interface Client {
  doc: Y.Doc;
  destroy(): void;
}

type Connect = () => Promise<Client>;

/**
 * One writer and 50 observers on one document; the writer makes 2,000 one-character edits as fast
 * as its provider sends them. Rate: edits over the time until every observer has all of them.
 * Latency: from each edit to its arrival at each observer.
 */
async function relay(name: string, connectWriter: Connect, connectObserver: Connect): Promise<RelayResult> {
  const writer = await connectWriter();
  const observers: Client[] = [];
  for (let i = 0; i < OBSERVERS; i++) observers.push(await connectObserver());
  try {
    const sentAt: number[] = [];
    const latencies: number[] = [];
    let finished = 0;
    const done = new Deferred();
    for (const observer of observers) {
      const text = observer.doc.getText('medication');
      let seen = 0;
      observer.doc.on('update', () => {
        const now = performance.now();
        const length = text.length;
        for (let i = seen; i < length; i++) latencies.push(now - sentAt[i]);
        if (seen < EDITS && length >= EDITS && ++finished === OBSERVERS) done.resolve();
        seen = length;
      });
    }
    const text = writer.doc.getText('medication');
    const started = performance.now();
    for (let i = 0; i < EDITS; i++) {
      sentAt.push(performance.now());
      text.insert(text.length, String.fromCharCode(97 + (i % 26)));
      // Yield now and then so sockets flush while the stream goes on, as typing would.
      if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([
      done.promise,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`${name}: observers did not converge`)), 120_000),
      ),
    ]);
    const elapsed = performance.now() - started;
    return { name, updatesPerSecond: EDITS / (elapsed / 1000), latency: summarize(latencies) };
  } finally {
    writer.destroy();
    for (const observer of observers) observer.destroy();
  }
}

function yWebsocketClient(url: string, room: string, params: Record<string, string> = {}): Connect {
  return () =>
    new Promise((resolve) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(url, room, doc, {
        params,
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      });
      const client = { doc, destroy: () => (provider.destroy(), doc.destroy()) };
      provider.once('sync', () => resolve(client));
    });
}

function hocuspocusClient(url: string, name: string): Connect {
  return () =>
    new Promise((resolve) => {
      const doc = new Y.Doc();
      const provider = new HocuspocusProvider({
        url,
        name,
        document: doc,
        WebSocketPolyfill: WebSocket,
        onSynced: () => resolve(client),
      } as never);
      const client = { doc, destroy: () => (provider.destroy(), doc.destroy()) };
    });
}

async function baseline(which: string): Promise<{ child: ChildProcess; port: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'baselineServers.js'), which], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      const match = /BASELINE (\d+)/.exec(String(chunk));
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`${which} exited with ${code}`)));
  });
  return { child, port };
}

export async function collabRelay(log: (line: string) => void): Promise<RelayResult[]> {
  const results: RelayResult[] = [];
  const db = await benchDatabase();
  const server = await startServerProcess(db.url);
  try {
    const sign = await signer();
    const prescriber = await sign({
      sub: 'bench-rx',
      email: 'rx@bench.example',
      name: 'Bench Prescriber',
      role: 'prescriber',
    });
    const therapist = await sign({
      sub: 'bench-tx',
      email: 'tx@bench.example',
      name: 'Bench Therapist',
      role: 'therapist',
    });
    await graphql(server.url, therapist, '{ me { id } }');
    const { createPatient } = await graphql(
      server.url,
      prescriber,
      `
        mutation {
          createPatient(input: { firstName: "Bench", lastName: "Plan", dateOfBirth: "1980-01-01" }) {
            id
          }
        }
      `,
    );
    await graphql(
      server.url,
      prescriber,
      `
        mutation ($p: ID!) {
          addCareTeamMember(patientId: $p, email: "tx@bench.example") {
            id
          }
        }
      `,
      { p: createPatient.id },
    );
    const plan = async () =>
      (
        await graphql(
          server.url,
          prescriber,
          `
            mutation ($p: ID!) {
              createTreatmentPlan(
                input: { patientId: $p, protocol: CONCURRENT, route: IV, plannedDosingSessions: 6 }
              ) {
                id
              }
            }
          `,
          { p: createPatient.id },
        )
      ).createTreatmentPlan.id as string;

    log(`  KAP Care Graph: ${OBSERVERS} observers, ${EDITS} edits (checked and stored)…`);
    const planId = await plan();
    const url = `${server.wsUrl}/collab`;
    results.push(
      await relay(
        'KAP Care Graph (permissions + PostgreSQL)',
        yWebsocketClient(url, planId, { token: prescriber }),
        yWebsocketClient(url, planId, { token: therapist }),
      ),
    );

    for (const which of ['y-websocket', 'hocuspocus'] as const) {
      log(`  baseline ${which}…`);
      const { child, port } = await baseline(which);
      try {
        const connect =
          which === 'y-websocket'
            ? yWebsocketClient(`ws://127.0.0.1:${port}`, 'bench')
            : hocuspocusClient(`ws://127.0.0.1:${port}`, 'bench');
        results.push(
          await relay(
            which === 'y-websocket'
              ? '@y/websocket-server 0.1.1 (memory only)'
              : '@hocuspocus/server 3.4.4 (memory only)',
            connect,
            connect,
          ),
        );
      } finally {
        await stopChild(child);
      }
    }
    return results;
  } finally {
    await server.stop();
    await db.stop();
  }
}

export function formatRelay(results: RelayResult[]): string[] {
  const [ours, ...baselines] = results;
  return [
    `| server | accepted updates/s | propagation p50 | p99 | max | rate vs ours |`,
    `|---|---|---|---|---|---|`,
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.updatesPerSecond.toFixed(0)} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${ms(r.latency.max)} | ${r === ours ? '1.00×' : `${(r.updatesPerSecond / ours.updatesPerSecond).toFixed(2)}×`} |`,
    ),
    ``,
    `${OBSERVERS} observers, ${EDITS} one-character edits from one writer; ${baselines.length} baselines in the same run.`,
  ];
}
