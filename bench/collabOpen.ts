import { performance } from 'node:perf_hooks';
import pg from 'pg';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { benchDatabase, graphql, ms, signer, startServerProcess } from './support';

const STORED_UPDATES = Number(process.env.BENCH_STORED_UPDATES ?? 10_000);
const IDLE_DOCUMENTS = Number(process.env.BENCH_IDLE_DOCUMENTS ?? 200);

export interface OpenResult {
  storedUpdates: number;
  openLogMs: number;
  openCompactedMs: number;
  idleDocuments: number;
  bytesPerIdleDocument: number;
}

/** Connects a stock client and resolves once it is synced, with the time that took. */
function openTimed(wsUrl: string, planId: string, token: string): Promise<{ ms: number; close: () => void }> {
  const started = performance.now();
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${wsUrl}/collab`, planId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  return new Promise((resolve) =>
    provider.once('sync', () =>
      resolve({ ms: performance.now() - started, close: () => (provider.destroy(), doc.destroy()) }),
    ),
  );
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

async function until(condition: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Opening a plan whose log holds 10,000 stored updates (one keystroke each), before and after
 * compaction: from a client's connect to its first sync, median of five. And the server's heap per
 * open idle document (200 plans, one editor and about 1 KB of text each).
 */
export async function collabOpen(log: (line: string) => void): Promise<OpenResult> {
  const db = await benchDatabase();
  const server = await startServerProcess(db.url);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    const sign = await signer();
    const rx = await sign({
      sub: 'bench-rx',
      email: 'rx@bench.example',
      name: 'Bench Prescriber',
      role: 'prescriber',
    });
    const { createPatient } = await graphql(
      server.url,
      rx,
      `
        mutation {
          createPatient(input: { firstName: "Bench", lastName: "Open", dateOfBirth: "1980-01-01" }) {
            id
          }
        }
      `,
    );
    const newPlan = async () =>
      (
        await graphql(
          server.url,
          rx,
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

    log(`  writing ${STORED_UPDATES} stored updates…`);
    const planId = await newPlan();
    const author = new Y.Doc();
    const updates: Buffer[] = [];
    author.on('update', (u: Uint8Array) => updates.push(Buffer.from(u)));
    const text = author.getText('notes');
    for (let i = 0; i < STORED_UPDATES; i++) text.insert(text.length, String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < updates.length; i += 1000) {
      const chunk = updates.slice(i, i + 1000);
      await sql.query(`insert into plan_update (plan_id, update) select $1, unnest($2::bytea[])`, [
        planId,
        chunk,
      ]);
    }

    const opens = async () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const opened = await openTimed(server.wsUrl, planId, rx);
        times.push(opened.ms);
        opened.close();
        await until(
          async () => (await metric(server.url, 'kap_collab_documents_loaded')) === 0,
          'the document to unload',
        );
      }
      return median(times);
    };
    log('  opening from the log…');
    const openLogMs = await opens();
    // One edit makes the room store, see its long tail and compact.
    await graphql(
      server.url,
      rx,
      `
        mutation ($id: ID!) {
          updatePlanSection(planId: $id, key: "medication", text: "x") {
            key
          }
        }
      `,
      { id: planId },
    );
    await until(
      async () =>
        (await sql.query('select 1 from plan_snapshot where plan_id = $1', [planId])).rowCount === 1,
      'compaction',
    );
    await until(
      async () => (await metric(server.url, 'kap_collab_documents_loaded')) === 0,
      'the document to unload',
    );
    log('  opening from the snapshot…');
    const openCompactedMs = await opens();

    log(`  ${IDLE_DOCUMENTS} idle documents…`);
    const plans: string[] = [];
    for (let i = 0; i < IDLE_DOCUMENTS; i++) plans.push(await newPlan());
    const heap = () => metric(server.url, 'nodejs_heap_size_used_bytes');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await heap();
    const open = [];
    for (const id of plans) {
      await graphql(
        server.url,
        rx,
        `
          mutation ($id: ID!, $text: String!) {
            updatePlanSection(planId: $id, key: "notes", text: $text) {
              key
            }
          }
        `,
        { id, text: 'Session plan. '.repeat(73) },
      );
      open.push(await openTimed(server.wsUrl, id, rx));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await heap();
    for (const o of open) o.close();
    return {
      storedUpdates: STORED_UPDATES,
      openLogMs,
      openCompactedMs,
      idleDocuments: IDLE_DOCUMENTS,
      bytesPerIdleDocument: (after - before) / IDLE_DOCUMENTS,
    };
  } finally {
    await sql.end();
    await server.stop();
    await db.stop();
  }
}

export function formatOpen(r: OpenResult): string[] {
  return [
    `| | |`,
    `|---|---|`,
    `| open a plan with ${r.storedUpdates} stored updates, from the log | ${ms(r.openLogMs)} |`,
    `| the same plan after compaction (snapshot) | ${ms(r.openCompactedMs)} |`,
    `| server heap per open idle document (${r.idleDocuments} documents, one editor and ~1 KB of text each) | ${(r.bytesPerIdleDocument / 1024).toFixed(1)} KiB |`,
    ``,
    `Open time: a client's connect (upgrade, token, care-team check) to its first sync, median of five.`,
  ];
}
