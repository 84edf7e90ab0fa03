import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  CreateTreatmentPlanDocument,
  MeDocument,
  PatientPlansDocument,
  PlanSectionChangedDocument,
  RemoveCareTeamMemberDocument,
  TreatmentPlanDocument,
  UpdatePlanSectionDocument,
} from './generated/graphql';
import { collabClient, refusedProvider, storedBytes, type CollabClient } from './support/collab';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { planWithTeam } from './support/careTeam';
import { collect, eventually } from './support/subscription';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ compactAfter: 25 });
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(() => server.close());

const newPlan = () =>
  planWithTeam(prescriber, therapist, { firstName: 'Robin', lastName: 'Plan', dateOfBirth: '1979-09-09' });

async function open(planId: string, who: TestClinician): Promise<CollabClient> {
  const client = await collabClient(server.url, planId, who.token);
  clients.push(client);
  return client;
}

/**
 * How the server answers a connection: `accepted` once it sends the document's first frame, or the
 * code it closes with when it sent none.
 */
function connectOutcome(path: string): Promise<number | 'accepted'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}`);
    ws.once('message', () => {
      resolve('accepted');
      ws.close();
    });
    ws.once('close', (code) => resolve(code));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
}

describe('treatment plans over GraphQL', () => {
  it('creates a DRAFT plan on a care-team patient and lists its sections with who may edit them', async () => {
    const { planId, patientId } = await newPlan();
    const { treatmentPlan } = await therapist.http.request(TreatmentPlanDocument, { id: planId });
    expect(treatmentPlan?.status).toBe('DRAFT');
    expect(treatmentPlan?.sections.map((s) => [s.key, s.editableBy.join('+'), s.canEdit])).toEqual([
      ['intentions', 'THERAPIST', true],
      ['preparation', 'THERAPIST', true],
      ['integration', 'THERAPIST', true],
      ['medication', 'PRESCRIBER', false],
      ['monitoring', 'PRESCRIBER', false],
      ['safetyPlan', 'PRESCRIBER+THERAPIST', true],
      ['notes', 'PRESCRIBER+THERAPIST', true],
    ]);
    const { patient } = await prescriber.http.request(PatientPlansDocument, { id: patientId });
    expect(patient?.treatmentPlans.map((p) => p.id)).toEqual([planId]);
  });

  it('refuses plans and sections to anyone off the care team, and bad input', async () => {
    const { planId, patientId } = await newPlan();
    await expectCode(outsider.http.request(TreatmentPlanDocument, { id: planId }), 'FORBIDDEN');
    await expectCode(
      outsider.http.request(UpdatePlanSectionDocument, { planId, key: 'notes', text: 'x' }),
      'FORBIDDEN',
    );
    await expectCode(
      outsider.http.request(CreateTreatmentPlanDocument, {
        input: { patientId, protocol: 'CONCURRENT', route: 'IV', plannedDosingSessions: 6 },
      }),
      'FORBIDDEN',
    );
    for (const sessions of [0, 53]) {
      await expectCode(
        prescriber.http.request(CreateTreatmentPlanDocument, {
          input: { patientId, protocol: 'CONCURRENT', route: 'IV', plannedDosingSessions: sessions },
        }),
        'BAD_USER_INPUT',
      );
    }
    expect(
      await prescriber.http.request(TreatmentPlanDocument, { id: '0190a5b4-0000-7000-8000-000000000000' }),
    ).toEqual({ treatmentPlan: null });
    await expectCode(
      prescriber.http.request(UpdatePlanSectionDocument, { planId, key: 'evil', text: 'x' }),
      'BAD_USER_INPUT',
    );
  });

  it('audits the creation, reads, opening and edits of a plan', async () => {
    const { planId, patientId } = await newPlan();
    await therapist.http.request(TreatmentPlanDocument, { id: planId });
    await prescriber.http.request(UpdatePlanSectionDocument, {
      planId,
      key: 'monitoring',
      text: 'BP every 15 minutes',
    });
    const live = await open(planId, therapist);
    live.doc.getText('notes').insert(0, 'hello');
    await eventually(
      async () =>
        (
          await server.sql("select 1 from audit_event where entity_id = $1 and action = 'plan.edit'", [
            planId,
          ])
        ).length === 2,
    );
    const rows = await server.sql<{ action: string; sub: string }>(
      `select a.action, c.sub from audit_event a join clinician c on c.id = a.clinician_id
       where a.patient_id = $1 and a.action like 'plan.%' order by a.id`,
      [patientId],
    );
    expect(rows.map((r) => `${r.action} ${r.sub === prescriber.sub ? 'prescriber' : 'therapist'}`)).toEqual([
      'plan.create prescriber',
      'plan.read therapist',
      'plan.edit prescriber',
      'plan.open therapist',
      'plan.edit therapist',
    ]);
    await expectCode(
      prescriber.http.request(UpdatePlanSectionDocument, { planId, key: 'notes', text: 'x'.repeat(100_001) }),
      'BAD_USER_INPUT',
    );
  });

  it('applies updatePlanSection under the section rules, live to editors and subscribers', async () => {
    const { planId } = await newPlan();
    const live = await open(planId, therapist);
    const changes = collect(server.ws(therapist.token), PlanSectionChangedDocument, { planId });
    await eventually(() => server.app.liveSubscriptions() > 0);

    const message = await expectCode(
      therapist.http.request(UpdatePlanSectionDocument, { planId, key: 'medication', text: 'ketamine' }),
      'FORBIDDEN',
    );
    expect(message).toContain('medication');
    const { updatePlanSection } = await prescriber.http.request(UpdatePlanSectionDocument, {
      planId,
      key: 'medication',
      text: 'Ketamine 0.5 mg/kg IM',
    });
    expect(updatePlanSection).toEqual({ key: 'medication', text: 'Ketamine 0.5 mg/kg IM', canEdit: true });
    await live.until(
      () => live.text('medication') === 'Ketamine 0.5 mg/kg IM',
      'the live editor to see the edit',
    );
    const [changed] = await changes.until(1);
    expect(changed.planSectionChanged).toEqual({
      key: 'medication',
      text: 'Ketamine 0.5 mg/kg IM',
      canEdit: false,
    });
  });
});

describe('the live document', () => {
  it('refuses a connection after the handshake with 4401, 4403 or 4404 and no frame', async () => {
    const { planId } = await newPlan();
    expect(await connectOutcome(`/collab/${planId}?token=${therapist.token}`)).toBe('accepted');
    expect(await connectOutcome(`/collab/${planId}`)).toBe(4401);
    expect(await connectOutcome(`/collab/${planId}?token=not-a-jwt`)).toBe(4401);
    expect(await connectOutcome(`/collab/${planId}?token=${outsider.token}`)).toBe(4403);
    expect(
      await connectOutcome(`/collab/0190a5b4-0000-7000-8000-000000000000?token=${therapist.token}`),
    ).toBe(4404);
    expect(await connectOutcome(`/collab/not-an-id?token=${therapist.token}`)).toBe(4404);
  });

  it('makes a refused stock y-websocket provider stop retrying and emit closed', async () => {
    const { planId } = await newPlan();
    for (const [params, path, code] of [
      [{ token: 'not-a-jwt' }, planId, 4401],
      [{ token: outsider.token }, planId, 4403],
      [{ token: therapist.token }, '0190a5b4-0000-7000-8000-000000000000', 4404],
    ] as const) {
      const refusal = await refusedProvider(server.url, path, params);
      expect(refusal).toMatchObject({ code, attempts: 1, frames: 0 });
      expect(refusal.statuses.at(-1)).toBe('disconnected');
    }
  });

  it('lets each role change its own sections, refuses and reverts the rest, and keeps everyone converged', async () => {
    const { planId } = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);

    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM');
    await tx.until(
      () => tx.text('medication') === 'Ketamine 0.5 mg/kg IM',
      'the therapist to see the prescription',
    );

    // Permitted, refused, permitted: each its own update on one connection.
    tx.doc.getText('integration').insert(0, 'Journal after each session. ');
    tx.doc.getText('medication').insert(0, 'REFUSED-DOSE-9999 ');
    tx.doc.getText('integration').insert(tx.text('integration').length, 'Walk outside.');

    await eventually(() => tx.denied.length === 1);
    expect(tx.denied[0]).toContain('"medication"');
    await tx.until(
      () => tx.text('medication') === 'Ketamine 0.5 mg/kg IM',
      "the therapist's replica to return",
    );
    await rx.until(
      () => rx.text('integration') === 'Journal after each session. Walk outside.',
      'both permitted edits to arrive',
    );
    expect(rx.text('medication')).toBe('Ketamine 0.5 mg/kg IM');

    // The therapist's next permitted edit goes through on the same connection.
    tx.doc.getText('notes').insert(0, 'Shared note.');
    await rx.until(() => rx.text('notes') === 'Shared note.', 'the next permitted edit');

    const { treatmentPlan } = await prescriber.http.request(TreatmentPlanDocument, { id: planId });
    const view = Object.fromEntries(treatmentPlan!.sections.map((s) => [s.key, s.text]));
    expect(view).toMatchObject({
      medication: 'Ketamine 0.5 mg/kg IM',
      integration: 'Journal after each session. Walk outside.',
      notes: 'Shared note.',
    });
    for (const key of Object.keys(view)) expect(tx.text(key)).toBe(view[key]);

    // The refused text is nowhere: not stored, not sent to the prescriber, not in GraphQL.
    await eventually(() => server.app.loadedDocuments() >= 0);
    expect((await storedBytes(server, planId)).includes('REFUSED-DOSE-9999')).toBe(false);
    expect(Buffer.concat(rx.frames).includes('REFUSED-DOSE-9999')).toBe(false);
    expect(JSON.stringify(treatmentPlan)).not.toContain('REFUSED-DOSE-9999');
  });

  it('restores text whose deletion was refused, and refuses root types that are not sections', async () => {
    const { planId } = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    rx.doc.getText('monitoring').insert(0, 'BP at 0, 40 and 120 minutes');
    await tx.until(() => tx.text('monitoring') === 'BP at 0, 40 and 120 minutes');

    tx.doc.getText('monitoring').delete(0, 6);
    await eventually(() => tx.denied.length === 1);
    await tx.until(
      () => tx.text('monitoring') === 'BP at 0, 40 and 120 minutes',
      'the deleted text to come back',
    );
    expect(rx.text('monitoring')).toBe('BP at 0, 40 and 120 minutes');

    tx.doc.getMap('sideChannel').set('secret', 'SIDE-CHANNEL-PAYLOAD');
    await eventually(() => tx.denied.length === 2);
    expect(tx.denied[1]).toContain('"sideChannel" is not a section');
    await tx.until(() => tx.doc.getMap('sideChannel').size === 0, 'the map entry to be reverted');
    expect((await storedBytes(server, planId)).includes('SIDE-CHANNEL-PAYLOAD')).toBe(false);
    expect(Buffer.concat(rx.frames).includes('SIDE-CHANNEL-PAYLOAD')).toBe(false);

    // And the therapist still edits its own sections afterwards.
    tx.doc.getText('preparation').insert(0, 'Set and setting.');
    await rx.until(() => rx.text('preparation') === 'Set and setting.');
  });

  it('shows who is present as the token says, whatever the client claims', async () => {
    const { planId } = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    tx.provider.awareness.setLocalStateField('user', {
      id: 'someone-else',
      name: 'Mallory',
      role: 'PRESCRIBER',
    });
    tx.provider.awareness.setLocalStateField('cursor', { section: 'notes', index: 3 });
    const therapistId = (await therapist.http.request(MeDocument)).me.id;
    await eventually(() => {
      const state = rx.provider.awareness.getStates().get(tx.doc.clientID);
      return state?.cursor !== undefined && (state?.user as { id?: string } | undefined)?.id === therapistId;
    });
    expect(rx.provider.awareness.getStates().get(tx.doc.clientID)).toEqual({
      user: { id: therapistId, name: therapist.name, role: 'THERAPIST' },
      cursor: { section: 'notes', index: 3 },
    });
  });

  it('stores every accepted update before relaying it, compacts the log, and unloads idle documents', async () => {
    const { planId } = await newPlan();
    const rx = await open(planId, prescriber);
    const tx = await open(planId, therapist);
    const medication = rx.doc.getText('medication');
    // One stored update each: every edit waits until the other editor has it.
    for (let i = 0; i < 60; i++) {
      medication.insert(medication.length, `${i % 10}`);
      await tx.until(() => tx.text('medication').length === i + 1);
    }
    tx.doc.getText('medication').insert(0, 'NEVER-STORED ');
    await eventually(() => tx.denied.length === 1);
    const expected = Array.from({ length: 60 }, (_, i) => `${i % 10}`).join('');
    await tx.until(() => tx.text('medication') === expected, 'all edits and the revert');

    rx.destroy();
    tx.destroy();
    await eventually(() => server.app.loadedDocuments() === 0);
    const snapshots = async () =>
      (
        await server.sql<{ n: number }>('select count(*)::int as n from plan_snapshot where plan_id = $1', [
          planId,
        ])
      )[0].n;
    await eventually(async () => (await snapshots()) === 1);
    const log = await server.sql<{ n: number }>(
      'select count(*)::int as n from plan_update where plan_id = $1',
      [planId],
    );
    expect(log[0].n).toBeLessThan(25);
    expect((await storedBytes(server, planId)).includes('NEVER-STORED')).toBe(false);

    const reopened = await open(planId, therapist);
    expect(reopened.text('medication')).toBe(expected);
  });

  it('closes a connection that sends a malformed frame, and only that one', async () => {
    const { planId } = await newPlan();
    const rx = await open(planId, prescriber);
    rx.doc.getText('notes').insert(0, 'before');
    const closed = (frame: Buffer | string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(
          `${server.url.replace(/^http/, 'ws')}/collab/${planId}?token=${therapist.token}`,
        );
        ws.once('open', () => ws.send(frame));
        ws.once('close', (code) => resolve(code));
      });
    expect(await closed(Buffer.from([0, 2, 200]))).toBe(4400); // truncated update
    expect(await closed(Buffer.from([9, 9, 9]))).toBe(4400); // unknown message type
    expect(await closed('text frame')).toBe(4400);
    expect(await closed(Buffer.alloc(1024 * 1024 + 1))).toBe(1009);
    rx.doc.getText('notes').insert(6, ' and after');
    const { treatmentPlan } = await prescriber.http.request(TreatmentPlanDocument, { id: planId });
    expect(treatmentPlan?.sections.find((s) => s.key === 'notes')?.text).toBe('before and after');
  });

  it('disconnects an editor removed from the care team, and one whose token expires', async () => {
    const { planId, patientId } = await newPlan();
    const closeCode = (token: string) =>
      new Promise<{ opened: Promise<void>; closed: Promise<number> }>((resolve) => {
        const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/collab/${planId}?token=${token}`);
        const opened = new Promise<void>((ok) => ws.once('open', () => ok()));
        const closed = new Promise<number>((ok) => ws.once('close', (code) => ok(code)));
        resolve({ opened, closed });
      });

    const removed = await closeCode(therapist.token);
    await removed.opened;
    const therapistId = (await therapist.http.request(MeDocument)).me.id;
    await prescriber.http.request(RemoveCareTeamMemberDocument, { patientId, clinicianId: therapistId });
    expect(await removed.closed).toBe(4403);
    expect(await connectOutcome(`/collab/${planId}?token=${therapist.token}`)).toBe(4403);

    const shortLived = await server.tokens.sign!(
      { sub: prescriber.sub, email: prescriber.email, name: prescriber.name, role: Role.PRESCRIBER },
      2,
    );
    const expiring = await closeCode(shortLived);
    await expiring.opened;
    expect(await expiring.closed).toBe(4401);
  });

  it('carries edits between two instances on one database', async () => {
    const other = await startTestServer({ databaseUrl: server.databaseUrl });
    try {
      const { planId } = await newPlan();
      const rx = await open(planId, prescriber);
      const remote = await collabClient(other.url, planId, therapist.token);
      clients.push(remote);
      rx.doc.getText('medication').insert(0, 'Esketamine 56 mg');
      await remote.until(
        () => remote.text('medication') === 'Esketamine 56 mg',
        'the edit on the other instance',
      );
      remote.doc.getText('integration').insert(0, 'Integration on day 2');
      await rx.until(() => rx.text('integration') === 'Integration on day 2', 'the edit back');
    } finally {
      for (const client of clients.splice(0)) client.destroy();
      await other.close();
    }
  });
});
