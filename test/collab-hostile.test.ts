import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { updateMessage } from '../src/collab/protocol';
import { Role } from '../src/domain/roles';
import { MeDocument } from './generated/graphql';
import { collabClient, docTexts, graphqlTexts, storedBytes, type CollabClient } from './support/collab';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { eventually } from './support/subscription';
import { planWithTeam } from './support/careTeam';
import { craftUpdate, lastClock, textItem } from './support/yjsCraft';

/**
 * Issue 13, findings 1 to 3, as an attacker holding a therapist's token would try them: hand-written
 * frames on a stock client's own socket (its replica never applies them), against a real server.
 */
let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ compactAfter: 1000 });
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(() => server.close());

const newPlan = async () =>
  (
    await planWithTeam(
      prescriber,
      therapist,
      { firstName: 'Hostile', lastName: 'Editor', dateOfBirth: '1981-03-03' },
      'CONCURRENT',
    )
  ).planId;

async function open(planId: string, who: TestClinician): Promise<CollabClient> {
  const client = await collabClient(server.url, planId, who.token);
  clients.push(client);
  return client;
}

/** Sends a frame on the client's own socket, bypassing its replica. */
const sendRaw = (client: CollabClient, frame: Uint8Array) =>
  (client.provider.ws as unknown as WebSocket).send(frame);

/** Every replica, GraphQL and a fresh load from PostgreSQL read `expected`. */
async function everywhere(
  planId: string,
  replicas: CollabClient[],
  expected: Record<string, string>,
): Promise<void> {
  for (const replica of replicas)
    await replica.until(
      () => JSON.stringify(docTexts(replica.doc)) === JSON.stringify(docTexts(replicas[0].doc)),
      'the replicas to converge',
    );
  for (const replica of replicas) expect(docTexts(replica.doc)).toMatchObject(expected);
  expect(await graphqlTexts(prescriber, planId)).toMatchObject(expected);
  for (const replica of replicas) replica.destroy();
  await eventually(() => server.app.loadedDocuments() === 0);
  const reloaded = await open(planId, prescriber);
  expect(docTexts(reloaded.doc)).toMatchObject(expected);
}

function awarenessFrame(entries: { clientId: number; clock: number; json: string }[]): Uint8Array {
  const inner = encoding.createEncoder();
  encoding.writeVarUint(inner, entries.length);
  for (const { clientId, clock, json } of entries) {
    encoding.writeVarUint(inner, clientId);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, json);
  }
  const outer = encoding.createEncoder();
  encoding.writeVarUint(outer, 1);
  encoding.writeVarUint8Array(outer, encoding.toUint8Array(inner));
  return encoding.toUint8Array(outer);
}

/** A raw connection as the therapist: sends `frames` once open, resolves with its close code. */
function closeCodeAfter(planId: string, frames: Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${server.url.replace(/^http/, 'ws')}/collab/${planId}?token=${therapist.token}`,
    );
    ws.once('open', () => frames.forEach((f) => ws.send(f)));
    ws.once('close', (code) => resolve(code));
    ws.once('error', reject);
  });
}

const internalErrors = () => server.logs.filter((line) => line.includes('collab message failed'));

describe('finding 1: an item whose tail Yjs attaches in another section', () => {
  it("refuses an item overlapping the prescriber's last clock that names notes; the prescriber's later edits are kept everywhere", async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM');
    await tx.until(() => tx.text('medication') === 'Ketamine 0.5 mg/kg IM');

    const last = lastClock(tx.doc, rx.doc.clientID);
    sendRaw(
      tx,
      updateMessage(
        craftUpdate([textItem(Y.createID(rx.doc.clientID, last), 'x 5 mg/kg INJECTED', { parent: 'notes' })]),
      ),
    );
    await eventually(() => tx.denied.length === 1);
    expect(tx.denied[0]).toContain('another editor');

    // The prescriber's next characters take exactly the clocks the tail claimed.
    rx.doc.getText('medication').insert(rx.text('medication').length, ' over 40 minutes');
    await tx.until(
      () => tx.text('medication').endsWith('over 40 minutes'),
      "the prescriber's edit to reach the therapist",
    );
    expect((await storedBytes(server, planId)).includes('INJECTED')).toBe(false);
    expect(Buffer.concat(rx.frames).includes('INJECTED')).toBe(false);
    await everywhere(planId, [rx, tx], { medication: 'Ketamine 0.5 mg/kg IM over 40 minutes', notes: '' });
  });

  it('refuses an item overlapping the placeholder its own refused insert left in medication; its replica converges', async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    rx.doc.getText('medication').insert(0, 'Esketamine 56 mg');
    await tx.until(() => tx.text('medication') === 'Esketamine 56 mg');
    tx.doc.getText('medication').insert(16, ' REFUSED');
    await eventually(() => tx.denied.length === 1);
    await tx.until(() => tx.text('medication') === 'Esketamine 56 mg', 'the refused insert to be reverted');

    const own = tx.doc.clientID;
    sendRaw(
      tx,
      updateMessage(
        craftUpdate([
          textItem(Y.createID(own, lastClock(tx.doc, own)), 'x 84 mg INJECTED', { parent: 'notes' }),
        ]),
      ),
    );
    await eventually(() => tx.denied.length === 2);
    expect(tx.denied[1]).toContain('"medication"');

    rx.doc.getText('medication').insert(16, ' twice weekly');
    await tx.until(
      () => tx.text('medication') === 'Esketamine 56 mg twice weekly',
      "the prescriber's edit to reach the therapist",
    );
    tx.doc.getText('notes').insert(0, 'Still editing notes.');
    await rx.until(() => rx.text('notes') === 'Still editing notes.', "the therapist's next permitted edit");
    expect(tx.doc.store.pendingDs).toBeNull();
    expect((await storedBytes(server, planId)).includes('INJECTED')).toBe(false);
    await everywhere(planId, [rx, tx], {
      medication: 'Esketamine 56 mg twice weekly',
      notes: 'Still editing notes.',
    });
  });
});

describe("finding 2: a deletion reaching past the prescriber's state", () => {
  it("is refused, deletes nothing, and the prescriber's next edit is kept on every replica", async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IV');
    rx.doc.getText('notes').insert(0, 'Ride home arranged.');
    await tx.until(() => tx.text('notes') === 'Ride home arranged.');

    const last = lastClock(tx.doc, rx.doc.clientID);
    sendRaw(tx, updateMessage(craftUpdate([], [{ client: rx.doc.clientID, clock: last - 1, len: 100_000 }])));
    await eventually(() => tx.denied.length === 1);
    expect(tx.denied[0]).toContain('does not have');

    rx.doc.getText('medication').insert(rx.text('medication').length, ' over 40 minutes');
    await tx.until(
      () => tx.text('medication') === 'Ketamine 0.5 mg/kg IV over 40 minutes',
      "the prescriber's edit to reach the therapist",
    );
    await everywhere(planId, [rx, tx], {
      medication: 'Ketamine 0.5 mg/kg IV over 40 minutes',
      notes: 'Ride home arranged.',
    });
  });
});

describe('finding 3: presence that locks others out, and frames that crashed the handler', () => {
  it('closes 4400 on a presence state over the cap, before anyone sees it; a joiner still gets the document', async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    rx.doc.getText('medication').insert(0, 'Ketamine');
    const huge = JSON.stringify({ cursor: 'HUGE-PRESENCE'.padEnd(900_000, '.') });
    const frames = Array.from({ length: 30 }, (_, i) =>
      awarenessFrame([{ clientId: 1000 + i, clock: 1, json: huge }]),
    );
    expect(await closeCodeAfter(planId, frames)).toBe(4400);
    const joiner = await open(planId, therapist);
    expect(joiner.text('medication')).toBe('Ketamine');
    expect(Buffer.concat([...rx.frames, ...joiner.frames]).includes('HUGE-PRESENCE')).toBe(false);
  });

  it('closes 4400 on a connection announcing more client ids than allowed, before anyone sees them', async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    const entries = Array.from({ length: 5 }, (_, i) => ({
      clientId: 2000 + i,
      clock: 1,
      json: JSON.stringify({ marker: `MANY-${i}` }),
    }));
    expect(await closeCodeAfter(planId, [awarenessFrame(entries)])).toBe(4400);
    const joiner = await open(planId, therapist);
    expect(Buffer.concat([...rx.frames, ...joiner.frames]).includes('MANY-')).toBe(false);
  });

  it('closes 4400, never 1011, on a presence state nested 150,000 deep', async () => {
    const planId = await newPlan();
    const deep = `{"a":${'['.repeat(150_000)}${']'.repeat(150_000)}}`;
    expect(await closeCodeAfter(planId, [awarenessFrame([{ clientId: 3000, clock: 1, json: deep }])])).toBe(
      4400,
    );
    expect(internalErrors()).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses, never 1011, a struct overlapping a garbage-collected placeholder of its own client', async () => {
    const planId = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    tx.doc.getMap('sideChannel').set('k', 'v'); // refused: its placeholder is garbage-collected
    await eventually(() => tx.denied.length === 1);
    const own = tx.doc.clientID;
    let code = 0;
    (tx.provider.ws as unknown as WebSocket).once('close', (c: number) => (code = c));
    sendRaw(
      tx,
      updateMessage(
        craftUpdate([textItem(Y.createID(own, lastClock(tx.doc, own)), 'xy', { parent: 'notes' })]),
      ),
    );
    await eventually(() => tx.denied.length === 2 || code !== 0);
    expect([0, 4400]).toContain(code);
    expect(internalErrors()).toEqual([]);
    rx.doc.getText('notes').insert(0, 'after');
    expect((await graphqlTexts(prescriber, planId)).notes).toBe('after');
  });
});
