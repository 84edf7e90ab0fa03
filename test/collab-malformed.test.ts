import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { MeDocument, TreatmentPlanDocument, UpdatePlanSectionDocument } from './generated/graphql';
import { patientWithTeam, planFor } from './support/careTeam';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { PATIENCE_MS } from './support/subscription';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let planId: string;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
  const patientId = await patientWithTeam(prescriber, therapist, {
    firstName: 'Fuzz',
    lastName: 'Target',
    dateOfBirth: '1990-01-01',
  });
  planId = await planFor(prescriber, patientId, 'CONCURRENT', 'IV');
  await prescriber.http.request(UpdatePlanSectionDocument, {
    planId,
    key: 'medication',
    text: 'Ketamine 0.5 mg/kg IV over 40 minutes',
  });
});
afterAll(() => server.close());

function frame(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}

/** Well-formed messages a therapist might send, from which malformed ones are cut. */
const wellFormed: Uint8Array[] = (() => {
  const doc = new Y.Doc();
  doc.getText('integration').insert(0, 'Integration session on day two');
  const update = Y.encodeStateAsUpdate(doc);
  const awareness = frame((e) => {
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(
      e,
      frame((inner) => {
        encoding.writeVarUint(inner, 1);
        encoding.writeVarUint(inner, doc.clientID);
        encoding.writeVarUint(inner, 1);
        encoding.writeVarString(inner, JSON.stringify({ user: { name: 'x' } }));
      }),
    );
  });
  return [
    frame(
      (e) => (
        encoding.writeVarUint(e, 0),
        encoding.writeVarUint(e, 0),
        encoding.writeVarUint8Array(e, Y.encodeStateVector(doc))
      ),
    ),
    frame(
      (e) => (
        encoding.writeVarUint(e, 0),
        encoding.writeVarUint(e, 2),
        encoding.writeVarUint8Array(e, update)
      ),
    ),
    awareness,
  ];
})();

/** Frames malformed by construction: each must close its connection with 4400. */
const malformed: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  // Unknown message types (2, auth, is the server's to send).
  fc
    .tuple(fc.oneof(fc.constant(2), fc.integer({ min: 4, max: 127 })), fc.uint8Array({ maxLength: 64 }))
    .map(([type, rest]) => Uint8Array.from([type, ...rest])),
  // Truncated: any strict prefix of a well-formed message.
  fc.tuple(fc.constantFrom(...wellFormed), fc.nat()).map(([m, n]) => m.slice(0, n % m.length)),
  // Trailing garbage after a well-formed message.
  fc
    .tuple(fc.constantFrom(...wellFormed), fc.uint8Array({ minLength: 1, maxLength: 32 }))
    .map(([m, tail]) => Uint8Array.from([...m, ...tail])),
  // Unknown sync steps.
  fc
    .tuple(fc.integer({ min: 3, max: 127 }), fc.uint8Array({ maxLength: 32 }))
    .map(([step, rest]) => Uint8Array.from([0, step, ...rest])),
  // An awareness update whose state is not JSON.
  fc.string({ minLength: 1, maxLength: 16 }).map((s) =>
    frame((e) => {
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint8Array(
        e,
        frame(
          (inner) => (
            encoding.writeVarUint(inner, 1),
            encoding.writeVarUint(inner, 7),
            encoding.writeVarUint(inner, 1),
            encoding.writeVarString(inner, `{"${s}`)
          ),
        ),
      );
    }),
  ),
  // Text frames are not part of the protocol.
  fc.string({ maxLength: 64 }),
);

function closeCodeFor(data: Uint8Array | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${server.url.replace(/^http/, 'ws')}/collab/${planId}?token=${therapist.token}`,
    );
    // Still open after a while: the frame was not refused (reported as close code 0).
    const timer = setTimeout(() => (ws.terminate(), resolve(0)), PATIENCE_MS);
    ws.once('close', () => clearTimeout(timer));
    ws.once('open', () =>
      ws.send(typeof data === 'string' ? data : Buffer.from(data), { binary: typeof data !== 'string' }),
    );
    ws.once('close', (code) => resolve(code));
    ws.once('error', reject);
  });
}

it('closes every connection that sends a malformed frame (10,000 of them), and nothing else changes', async () => {
  const before = await prescriber.http.request(TreatmentPlanDocument, { id: planId });
  const stored = async () =>
    (
      await server.sql<{ n: number }>('select count(*)::int as n from plan_update where plan_id = $1', [
        planId,
      ])
    )[0].n;
  const updatesBefore = await stored();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(malformed, { minLength: 100, maxLength: 100 }), async (frames) => {
      const codes = await Promise.all(frames.map(closeCodeFor));
      sent += frames.length;
      expect(codes.every((code) => code === 4400)).toBe(true);
    }),
    { numRuns: 100 },
  );
  expect(sent).toBeGreaterThanOrEqual(10_000);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect(await stored()).toBe(updatesBefore);
  expect(await prescriber.http.request(TreatmentPlanDocument, { id: planId })).toEqual(before);
}, 300_000);
