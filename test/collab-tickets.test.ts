import fc from 'fast-check';
import { GraphQLClient } from 'graphql-request';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  CollabTicketDocument,
  MeDocument,
  RemoveCareTeamMemberDocument,
  TreatmentPlanDocument,
} from './generated/graphql';
import { collabClient, refusedProvider, type CollabClient } from './support/collab';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { planWithTeam } from './support/careTeam';
import { eventually } from './support/subscription';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;
let admin: TestClinician;
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  admin = await server.clinician(Role.ADMIN);
  await therapist.http.request(MeDocument);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(() => server.close());

const newPlan = () =>
  planWithTeam(prescriber, therapist, { firstName: 'Kim', lastName: 'Ticket', dateOfBirth: '1985-03-04' });

const ticketFor = async (who: TestClinician, planId: string) =>
  (await who.http.request(CollabTicketDocument, { planId })).collabTicket;

/** The close code of a raw connection with this query, and how many frames it got first. */
function refusal(planId: string, query: string): Promise<{ code: number; frames: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/collab/${planId}?${query}`);
    let frames = 0;
    ws.on('message', () => frames++);
    ws.once('close', (code) => resolve({ code, frames }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
}

describe('collab tickets', () => {
  it('opens the document once as the clinician who asked, for 60 seconds', async () => {
    const { planId } = await newPlan();
    const before = Date.now();
    const { ticket, expiresAt } = await ticketFor(therapist, planId);
    const expiry = new Date(expiresAt).getTime();
    // Stamped by the database's clock, which is this machine's.
    expect(expiry).toBeGreaterThanOrEqual(before + 59_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 61_000);

    const live = await collabClient(server.url, planId, { ticket });
    clients.push(live);
    // Edits as the therapist: a therapist's section is accepted, a prescriber's refused.
    live.doc.getText('intentions').insert(0, 'Set with care');
    live.doc.getText('medication').insert(0, 'no');
    await eventually(() => live.denied.length > 0);
    expect(live.denied[0]).toContain('medication');
    const sectionsNow = async () =>
      (await prescriber.http.request(TreatmentPlanDocument, { id: planId })).treatmentPlan?.sections ?? [];
    await eventually(
      async () => (await sectionsNow()).find((s) => s.key === 'intentions')?.text === 'Set with care',
    );
    expect((await sectionsNow()).find((s) => s.key === 'medication')?.text).toBe('');

    // The same ticket again, as a stock provider would on its reconnect: refused, and it gives up.
    const again = await refusedProvider(server.url, planId, { ticket });
    expect(again).toMatchObject({ code: 4401, attempts: 1, frames: 0 });
  });

  it('lets exactly one of many simultaneous connections redeem a ticket', async () => {
    const { planId } = await newPlan();
    const { ticket } = await ticketFor(prescriber, planId);
    const outcomes = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<number | 'accepted'>((resolve) => {
            const ws = new WebSocket(
              `${server.url.replace(/^http/, 'ws')}/collab/${planId}?ticket=${ticket}`,
            );
            ws.once('message', () => {
              resolve('accepted');
              ws.close();
            });
            ws.once('close', (code) => resolve(code));
          }),
      ),
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 4401)).toHaveLength(7);
  });

  it('is redeemed on another instance of the same database', async () => {
    const other = await startTestServer({ databaseUrl: server.databaseUrl });
    try {
      const { planId } = await newPlan();
      const { ticket } = await ticketFor(therapist, planId);
      const remote = await collabClient(other.url, planId, { ticket });
      clients.push(remote);
      expect((await refusal(planId, `ticket=${ticket}`)).code).toBe(4401);
    } finally {
      for (const client of clients.splice(0)) client.destroy();
      await other.close();
    }
  });

  it('is refused once expired, for another plan (which does not spend it), and after leaving the care team', async () => {
    const { planId, patientId } = await newPlan();
    const other = await newPlan();

    const expired = await ticketFor(therapist, planId);
    await server.sql(
      "update collab_ticket set expires_at = statement_timestamp() - interval '1 second' where plan_id = $1",
      [planId],
    );
    expect(await refusal(planId, `ticket=${expired.ticket}`)).toEqual({ code: 4401, frames: 0 });

    const elsewhere = await ticketFor(therapist, other.planId);
    expect(await refusal(planId, `ticket=${elsewhere.ticket}`)).toEqual({ code: 4401, frames: 0 });
    clients.push(await collabClient(server.url, other.planId, { ticket: elsewhere.ticket }));

    const beforeRemoval = await ticketFor(therapist, planId);
    const therapistId = (await therapist.http.request(MeDocument)).me.id;
    await prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: therapistId });
    expect(await refusal(planId, `ticket=${beforeRemoval.ticket}`)).toEqual({ code: 4403, frames: 0 });
  });

  it('is issued only to care-team clinicians, and audited with the opening it leads to', async () => {
    const { planId, patientId } = await newPlan();
    await expectCode(ticketFor(outsider, planId), 'FORBIDDEN');
    await expectCode(ticketFor(admin, planId), 'FORBIDDEN');
    await expectCode(ticketFor(prescriber, '0190a5b4-0000-7000-8000-000000000000'), 'NOT_FOUND');
    await expectCode(ticketFor(prescriber, 'not-an-id'), 'BAD_USER_INPUT');

    const { ticket } = await ticketFor(therapist, planId);
    clients.push(await collabClient(server.url, planId, { ticket }));
    const rows = await server.sql<{ action: string; sub: string }>(
      `select a.action, c.sub from audit_event a join clinician c on c.id = a.clinician_id
       where a.patient_id = $1 and a.action in ('plan.ticket', 'plan.open') order by a.id`,
      [patientId],
    );
    expect(rows).toEqual([
      { action: 'plan.ticket', sub: therapist.sub },
      { action: 'plan.open', sub: therapist.sub },
    ]);
    // Only the ticket's hash is stored.
    const stored = await server.sql<{ hash: string }>(
      "select encode(ticket_hash, 'hex') as hash from collab_ticket",
    );
    expect(stored.map((r) => r.hash).join()).not.toContain(Buffer.from(ticket).toString('hex'));
  });

  it('refuses every ticket but the genuine one, which then works once (property)', async () => {
    const { planId } = await newPlan();
    const spent = await ticketFor(therapist, planId);
    clients.push(await collabClient(server.url, planId, { ticket: spent.ticket }));
    const otherPlan = await newPlan();
    const foreign = await ticketFor(therapist, otherPlan.planId);
    const genuine = await ticketFor(therapist, planId);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

    // Hostile tickets built from real ones: spent, for another plan, one character changed,
    // truncated, extended, or anything at all.
    const hostile = fc.oneof(
      fc.constant(spent.ticket),
      fc.constant(foreign.ticket),
      fc
        .tuple(fc.nat({ max: 42 }), fc.constantFrom(...alphabet))
        .map(
          ([at, c]) =>
            genuine.ticket.slice(0, at) +
            (genuine.ticket[at] === c ? (c === 'A' ? 'B' : 'A') : c) +
            genuine.ticket.slice(at + 1),
        ),
      fc.nat({ max: 42 }).map((n) => genuine.ticket.slice(0, n)),
      fc
        .string({ maxLength: 3 })
        .map((s) => genuine.ticket + s)
        .filter((t) => t !== genuine.ticket),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (ticket) => {
        const outcome = await refusal(planId, `ticket=${encodeURIComponent(ticket)}`);
        expect(outcome).toEqual({ code: 4401, frames: 0 });
      }),
      { numRuns: 40 },
    );
    clients.push(await collabClient(server.url, planId, { ticket: genuine.ticket }));
    expect((await refusal(planId, `ticket=${genuine.ticket}`)).code).toBe(4401);
    // The foreign ticket was never spent by being presented here.
    clients.push(await collabClient(server.url, otherPlan.planId, { ticket: foreign.ticket }));
  });

  it('ends a ticket connection when the issuing token expires', async () => {
    const { planId } = await newPlan();
    const shortLived = await server.tokens.sign!(
      { sub: prescriber.sub, email: prescriber.email, name: prescriber.name, role: Role.PRESCRIBER },
      6,
    );
    const asShortLived = new GraphQLClient(`${server.url}/graphql`, {
      headers: { authorization: `Bearer ${shortLived}` },
    });
    const { collabTicket } = await asShortLived.request(CollabTicketDocument, { planId });
    expect(new Date(collabTicket.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 6_000);
    const closed = await new Promise<{ code: number; frames: number }>((resolve) => {
      const ws = new WebSocket(
        `${server.url.replace(/^http/, 'ws')}/collab/${planId}?ticket=${collabTicket.ticket}`,
      );
      let frames = 0;
      ws.on('message', () => frames++);
      ws.once('close', (code) => resolve({ code, frames }));
    });
    // Admitted (the document was sent), then closed when the token ran out.
    expect(closed.frames).toBeGreaterThan(0);
    expect(closed.code).toBe(4401);
  });
});
