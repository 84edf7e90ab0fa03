import fc from 'fast-check';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UpdateGate } from '../src/collab/permissions';
import { syncStep1Message, updateMessage } from '../src/collab/protocol';
import { mayEditSection, PLAN_SECTIONS } from '../src/domain/plans';
import { Role } from '../src/domain/roles';
import { MeDocument, TreatmentPlanDocument } from './generated/graphql';
import { planWithTeam } from './support/careTeam';
import { collabClient, type CollabClient } from './support/collab';
import { hostileRecipe, hostileUpdate, MARKER } from './support/hostileUpdates';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { eventually, PATIENCE_MS } from './support/subscription';

const THERAPIST = { id: 'therapist', role: Role.THERAPIST };
const PRESCRIBER = { id: 'prescriber', role: Role.PRESCRIBER };
const OBSERVER = { id: 'observer', role: Role.THERAPIST };
/** Hostile updates per session: short sessions keep each document small, so 10,000 cases run in seconds. */
const STEPS = 20;
/**
 * Bursts of 10 hostile updates through the socket: 20 take about 3 s on an idle machine and under
 * 30 s with both cores busy.
 */
const SOCKET_BURSTS = 20;
const FORBIDDEN = PLAN_SECTIONS.filter(({ key }) => !mayEditSection(Role.THERAPIST, key)).map(
  ({ key }) => key,
);

type Op = { insert: unknown; attributes?: Record<string, unknown> };

/**
 * Sections as the clinic sees them: text with formatting and embeds. Neighbouring runs of text with the
 * same formatting are one run: how Yjs happens to split them (a deleted mark between them ends a
 * delta op) is not something a reader sees, and the server's restore may join them.
 */
const view = (doc: Y.Doc, keys = PLAN_SECTIONS.map((s) => s.key)) =>
  JSON.stringify(
    keys.map((key) =>
      (doc.getText(key).toDelta() as Op[]).reduce<Op[]>((ops, op) => {
        const last = ops.at(-1);
        if (
          last !== undefined &&
          typeof last.insert === 'string' &&
          typeof op.insert === 'string' &&
          JSON.stringify(last.attributes) === JSON.stringify(op.attributes)
        )
          last.insert += op.insert;
        else ops.push({ ...op });
        return ops;
      }, []),
    ),
  );

/**
 * The server's permission core with real Y.Doc state and three replicas, delivering what the server
 * sends as `Room` does: an accepted update to everyone but its author; for a refused one, the revert
 * to its author alone, the emptied structure and the restored content to everyone.
 */
class Session {
  readonly server = new Y.Doc();
  readonly gate = new UpdateGate(this.server);
  readonly replicas = { prescriber: new Y.Doc(), therapist: new Y.Doc(), observer: new Y.Doc() };

  constructor() {
    for (const { key } of PLAN_SECTIONS) this.server.getText(key);
    const rx = this.replicas.prescriber;
    rx.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM over 40 minutes');
    rx.getText('medication').format(0, 8, { bold: true });
    rx.getText('medication').insertEmbed(8, { dose: '0.5 mg/kg' });
    rx.getText('monitoring').insert(0, 'BP at 0, 40 and 120 minutes');
    rx.getText('notes').insert(0, 'Ride home arranged.');
    this.honest('prescriber', () => undefined, Y.encodeStateAsUpdate(rx));
    const tx = this.replicas.therapist;
    Y.applyUpdate(tx, Y.encodeStateAsUpdate(this.server));
    tx.getText('integration').insert(0, 'Journal after each session.');
    tx.getText('notes').insert(0, 'Set and setting. ');
    this.honest('therapist', () => undefined, Y.encodeStateAsUpdate(tx, Y.encodeStateVector(this.server)));
    Y.applyUpdate(this.replicas.observer, Y.encodeStateAsUpdate(this.server));
  }

  /** An edit made on a replica, sent as its provider would send it: must be accepted. */
  honest(who: 'prescriber' | 'therapist', edit: (doc: Y.Doc) => void, given?: Uint8Array): void {
    const doc = this.replicas[who];
    const updates: Uint8Array[] = [];
    const listen = (u: Uint8Array) => updates.push(u);
    doc.on('update', listen);
    edit(doc);
    doc.off('update', listen);
    for (const update of given ? [given] : updates) {
      const decision = this.gate.receive(who === 'prescriber' ? PRESCRIBER : THERAPIST, update);
      expect(decision.refusal).toBeUndefined();
      if (decision.accepted)
        for (const [name, replica] of Object.entries(this.replicas))
          if (name !== who) Y.applyUpdate(replica, decision.accepted);
    }
  }

  /** A hand-written update from the therapist; its replica applies only what the server sends it. */
  hostile(update: Uint8Array): 'accepted' | 'refused' | 'unreadable' {
    let decision;
    try {
      decision = this.gate.receive(THERAPIST, update);
    } catch {
      return 'unreadable';
    }
    const { accepted, revert, emptied, restored } = decision;
    // An accepted update is not echoed to its author, whose replica is taken to have made it.
    if (accepted) for (const replica of Object.values(this.replicas)) Y.applyUpdate(replica, accepted);
    if (revert) Y.applyUpdate(this.replicas.therapist, revert);
    for (const update of [emptied, restored])
      if (update) for (const replica of Object.values(this.replicas)) Y.applyUpdate(replica, update);
    return decision.refusal === undefined ? 'accepted' : 'refused';
  }

  destroy(): void {
    this.server.destroy();
    for (const replica of Object.values(this.replicas)) replica.destroy();
  }
}

/** After each hostile update: what the invariants of issue 13 require. */
function checkInvariants(session: Session, forbiddenBefore: string): void {
  const { server, replicas } = session;
  expect(view(server, FORBIDDEN)).toBe(forbiddenBefore);
  expect(server.share.size).toBe(PLAN_SECTIONS.length);
  expect(server.store.pendingStructs).toBeNull();
  expect(server.store.pendingDs).toBeNull();
  converged(session);
}

function converged({ server, replicas }: Session): void {
  const expected = view(server);
  for (const replica of Object.values(replicas))
    if (view(replica) !== expected) expect(view(replica)).toBe(expected);
}

/**
 * Whether `marker` occurs anywhere in the document as it would be stored: visible text, deleted items,
 * other roots, nested types, embeds, binary content. Each hostile update carries a marker of its own,
 * so this finds what is left of that update alone. (Counting one shared marker instead is fooled by
 * the server's restore: rewriting a section from its delta joins accepted text that was split across
 * items, say "H" "OSTI" "L" "Ex", into one string, so the count rises with nothing new kept.)
 */
const stores = (doc: Y.Doc, marker: string) =>
  Buffer.from(Y.encodeStateAsUpdate(doc)).toString('latin1').includes(marker);

describe('hostile updates against the permission core (in process, real Y.Doc state)', () => {
  it("keeps the sections a therapist may not change, converges every replica and keeps the prescriber's later edits, over 10,000 updates", () => {
    const outcomes = { accepted: 0, refused: 0, unreadable: 0, unencodable: 0 };
    const started = performance.now();
    // Yjs logs each time a replica takes a new client id (its own id came back from the server as a
    // placeholder of a hand-written update); thousands of lines would cost more than the checks.
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(hostileRecipe, fc.nat({ max: 9 })), { minLength: STEPS, maxLength: STEPS }),
          (steps) => {
            const session = new Session();
            try {
              for (const [step, [recipe, honest]] of steps.entries()) {
                const marker = `${MARKER}${step}~`;
                const update = hostileUpdate(
                  session.replicas.therapist,
                  session.replicas.therapist.clientID,
                  recipe,
                  marker,
                );
                if (!update) {
                  outcomes.unencodable++;
                  continue;
                }
                const before = view(session.server);
                const forbiddenBefore = view(session.server, FORBIDDEN);
                const outcome = session.hostile(update);
                outcomes[outcome]++;
                checkInvariants(session, forbiddenBefore);
                // A refused update leaves every section reading as before, and nothing of its content is
                // stored anywhere, visible or not.
                if (outcome !== 'accepted') {
                  expect(view(session.server)).toBe(before);
                  expect(stores(session.server, marker)).toBe(false);
                }
                // The prescriber keeps editing: every edit is accepted and reaches every replica.
                if (honest < 4) {
                  session.honest('prescriber', (doc) =>
                    doc
                      .getText(honest % 2 ? 'medication' : 'notes')
                      .insert(honest % 3 ? doc.getText('medication').length : 0, `rx${honest}`),
                  );
                  converged(session);
                } else if (honest < 6) {
                  session.honest('therapist', (doc) => doc.getText('integration').insert(0, `tx${honest}`));
                  converged(session);
                }
              }
            } finally {
              session.destroy();
            }
          },
        ),
        { numRuns: Number(process.env.PROPERTY_RUNS ?? 10_000 / STEPS) },
      );
    } finally {
      quiet.mockRestore();
    }
    const seconds = (performance.now() - started) / 1000;
    const total = outcomes.accepted + outcomes.refused + outcomes.unreadable + outcomes.unencodable;
    console.log(
      `collab property (in process): ${total} hostile updates in ${seconds.toFixed(1)} s`,
      outcomes,
    );
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(outcomes.refused).toBeGreaterThan(1000);
  }, 120_000);
});

describe('hostile updates through a real socket', () => {
  let server: TestServer;
  let prescriber: TestClinician;
  let therapist: TestClinician;
  let planId: string;

  beforeAll(async () => {
    server = await startTestServer({ compactAfter: 100 });
    prescriber = await server.clinician(Role.PRESCRIBER);
    therapist = await server.clinician(Role.THERAPIST);
    await therapist.http.request(MeDocument);
    ({ planId } = await planWithTeam(
      prescriber,
      therapist,
      { firstName: 'Prop', lastName: 'Socket', dateOfBirth: '1977-07-07' },
      'CONCURRENT',
    ));
  });
  afterAll(() => server.close());

  it('refuses or accepts each through WebsocketProvider clients, with no 1011, the server responsive and every replica converged', async () => {
    const rx = await collabClient(server.url, planId, prescriber.token);
    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM');
    rx.doc.getText('notes').insert(0, 'Ride home arranged.');
    let tx = await collabClient(server.url, planId, therapist.token);
    await tx.until(() => tx.text('notes') === 'Ride home arranged.');
    const codes: number[] = [];
    let sent = 0;
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(hostileRecipe, { minLength: 10, maxLength: 10 }), async (recipes) => {
          const medicationBefore = JSON.stringify(rx.doc.getText('medication').toDelta());
          for (const recipe of recipes) {
            const update = hostileUpdate(tx.doc, tx.doc.clientID, recipe);
            if (!update) continue;
            sent++;
            const denied = tx.denied.length;
            const closed = await sendAndSettle(tx, update);
            if (closed !== undefined) {
              codes.push(closed);
              tx.destroy();
              tx = await collabClient(server.url, planId, therapist.token);
              continue;
            }
            // Accepted, the server does not echo it to its author, whose replica is taken to have made
            // it: the replica takes it as the server integrated it, from the sync answer. Not the bytes
            // as sent: Yjs integrates a hand-written struct against the replica's own splits and
            // placeholders, which need not be the server's, and may put it elsewhere or throw (it threw
            // in Item.integrate on the therapist's replica for an update the server had taken).
            await caughtUp(tx, tx.denied.length === denied ? update : undefined);
          }
          // The prescriber's edit after the burst is kept, and every replica, GraphQL included, agrees.
          rx.doc.getText('monitoring').insert(0, 'm');
          let apart: unknown[] = [];
          await eventually(async () => {
            const { treatmentPlan } = await prescriber.http.request(TreatmentPlanDocument, { id: planId });
            const stored = Object.fromEntries(treatmentPlan!.sections.map((s) => [s.key, s.text]));
            apart = PLAN_SECTIONS.filter(
              ({ key }) => stored[key] !== rx.text(key) || stored[key] !== tx.text(key),
            ).map(({ key }) => ({
              key,
              stored: stored[key],
              prescriber: rx.text(key),
              therapist: tx.text(key),
            }));
            return apart.length === 0;
          }).catch((error: unknown) => {
            // What did not converge, for whoever reads a failure: which replica, which section.
            const clocks = (doc: Y.Doc) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(doc))]);
            throw new Error(
              `${String(error)}: ${JSON.stringify(apart)}; state vectors prescriber ${clocks(rx.doc)}, therapist ${clocks(tx.doc)}; closes ${JSON.stringify(codes)}`,
            );
          });
          expect(JSON.stringify(rx.doc.getText('medication').toDelta())).toBe(medicationBefore);
          expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        }),
        // The document lives on across runs, so a shrunk counterexample would not replay: report the first.
        { numRuns: Number(process.env.PROPERTY_SOCKET_RUNS ?? SOCKET_BURSTS), endOnFailure: true },
      );
    } finally {
      rx.destroy();
      tx.destroy();
    }
    console.log(
      `collab property (socket): ${sent} hostile updates in ${((performance.now() - started) / 1000).toFixed(1)} s, closes ${JSON.stringify(codes)}`,
    );
    expect(codes.every((code) => code === 4400)).toBe(true);
    expect(server.logs.filter((line) => line.includes('collab message failed'))).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(150);
  }, 120_000);
});

/**
 * Sends a hand-written update on the client's own socket, then asks for presence: frames are handled
 * in order, so the answer means the update was. Resolves with the close code if the server closed.
 */
function sendAndSettle(client: CollabClient, update: Uint8Array): Promise<number | undefined> {
  const ws = client.provider.ws as unknown as WebSocket;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer after a hostile update (socket state ${ws.readyState})`)),
      PATIENCE_MS,
    );
    const onClose = (code: number) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(code);
    };
    const onMessage = (data: Buffer) => {
      if (decoding.readVarUint(decoding.createDecoder(new Uint8Array(data))) !== 1) return;
      clearTimeout(timer);
      ws.off('close', onClose);
      ws.off('message', onMessage);
      resolve(undefined);
    };
    ws.once('close', onClose);
    ws.on('message', onMessage);
    ws.send(updateMessage(update));
    ws.send(new Uint8Array([3])); // query awareness
  });
}

/**
 * Waits until the server has sent the client everything it took so far, and checks that the relays
 * alone brought it. The next hostile update is drawn from the client's replica, so it must be the
 * server's view: what the server stores in place of a refused update (its emptied structs, its
 * re-insertion of deleted text) is relayed only once committed, after the reply `sendAndSettle`
 * waits for. An update drawn before that names ids the server already holds and the replica does
 * not: the server skips them as known and accepts a no-op, while the replica, applying it, takes
 * those ids for itself and then skips the server's structs under them for good. That was the
 * replicas "not converged" now and then on a busy machine; an honest client never writes under ids
 * it has not seen, its own being written by itself alone.
 *
 * The barrier is a sync step 1: the server answers it, in order, once everything accepted is stored
 * and relayed. The answer must bring nothing the relays had not, except, when `accepted` is the
 * client's own update that the server took, what the server integrated of it: structs under the
 * clients it wrote, up to the clocks it wrote, and its deletions.
 */
function caughtUp(client: CollabClient, accepted?: Uint8Array): Promise<void> {
  const ws = client.provider.ws as unknown as WebSocket;
  const isStep2 = (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    return decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === 1;
  };
  let before: string | undefined;
  let beforeClocks = new Map<number, number>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no sync step 2 (socket state ${ws.readyState})`)),
      PATIENCE_MS,
    );
    // Before the provider applies the answer, and after.
    const early = (data: Buffer) => {
      if (!isStep2(data)) return;
      beforeClocks = Y.decodeStateVector(Y.encodeStateVector(client.doc));
      before = JSON.stringify([view(client.doc), [...beforeClocks]]);
    };
    const late = (data: Buffer) => {
      if (!isStep2(data)) return;
      clearTimeout(timer);
      ws.off('message', early);
      ws.off('message', late);
      const clocks = Y.decodeStateVector(Y.encodeStateVector(client.doc));
      const after = JSON.stringify([view(client.doc), [...clocks]]);
      if (after === before) return resolve();
      const written = accepted && Y.parseUpdateMeta(accepted).to;
      const own =
        written &&
        [...clocks].every(
          ([id, clock]) => clock === (beforeClocks.get(id) ?? 0) || clock <= (written.get(id) ?? 0),
        );
      if (own) resolve();
      else reject(new Error(`the sync answer brought what no relay had: ${before} -> ${after}`));
    };
    ws.prependListener('message', early);
    ws.on('message', late);
    ws.send(syncStep1Message(Y.encodeStateVector(client.doc)));
  });
}
