import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { updateMessage } from '../src/collab/protocol';
import { Role } from '../src/domain/roles';
import { MeDocument } from './generated/graphql';
import { planWithTeam } from './support/careTeam';
import { collabClient, docTexts, graphqlTexts, type CollabClient } from './support/collab';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { eventually } from './support/subscription';
import { craftUpdate, textItem } from './support/yjsCraft';

/**
 * Which Yjs client ids belong to which clinician outlives the open document: a therapist who writes
 * under the prescriber's client id is refused after the document was reloaded from PostgreSQL (from
 * the log of updates or from a compacted snapshot), after a restart, and on another instance sharing
 * the database. Were the id free, the therapist's item (in notes, which a therapist may edit) would
 * take the clocks of the prescriber's next characters, which every replica would then drop as known.
 */
const servers: TestServer[] = [];
const clients: CollabClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: { databaseUrl?: string; compactAfter?: number } = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

interface Team {
  prescriber: TestClinician;
  therapist: TestClinician;
  planId: string;
}

async function newPlan(server: TestServer): Promise<Team> {
  const prescriber = await server.clinician(Role.PRESCRIBER);
  const therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
  const { planId } = await planWithTeam(prescriber, therapist, {
    firstName: 'Owned',
    lastName: 'Ids',
    dateOfBirth: '1979-09-09',
  });
  return { prescriber, therapist, planId };
}

async function open(
  server: TestServer,
  planId: string,
  who: TestClinician,
  doc?: Y.Doc,
): Promise<CollabClient> {
  const client = await collabClient(server.url, planId, who.token, {}, doc);
  clients.push(client);
  return client;
}

/** Closes a client's connection and keeps its replica, as a laptop going offline would. */
function offline(client: CollabClient): Y.Doc {
  clients.splice(clients.indexOf(client), 1);
  client.provider.destroy();
  return client.doc;
}

/**
 * As the therapist, on its own socket: an item in notes under the prescriber's client id at the
 * prescriber's next clock. Resolves with the permission-denied reason.
 */
async function writeAsPrescriber(tx: CollabClient, prescriberClient: number): Promise<string> {
  const denied = tx.denied.length;
  const id = Y.createID(prescriberClient, Y.getState(tx.doc.store, prescriberClient));
  (tx.provider.ws as unknown as WebSocket).send(
    updateMessage(craftUpdate([textItem(id, 'x INJECTED', { parent: 'notes' })])),
  );
  await eventually(() => tx.denied.length > denied);
  return tx.denied[denied];
}

/** The prescriber's edit after the attempt is kept on every replica, in GraphQL and in storage. */
async function prescriberKeepsEditing(
  server: TestServer,
  team: Team,
  rx: CollabClient,
  tx: CollabClient,
): Promise<void> {
  rx.doc.getText('medication').insert(rx.text('medication').length, ' over 40 minutes');
  const expected = 'Ketamine 0.5 mg/kg IM over 40 minutes';
  await tx.until(() => tx.text('medication') === expected, "the prescriber's edit to reach the therapist");
  tx.doc.getText('notes').insert(0, 'Ride home arranged.');
  await rx.until(
    () => rx.text('notes') === 'Ride home arranged.',
    "the therapist's edit to reach the prescriber",
  );
  expect(docTexts(tx.doc)).toEqual(docTexts(rx.doc));
  await eventually(
    async () =>
      JSON.stringify(await graphqlTexts(team.prescriber, team.planId)) === JSON.stringify(docTexts(rx.doc)),
  );
  expect((await graphqlTexts(team.prescriber, team.planId)).medication).toBe(expected);
  const stored = await server.sql<{ update: Buffer }>(
    'select update from plan_update where plan_id = $1 union all select state from plan_snapshot where plan_id = $1',
    [team.planId],
  );
  expect(Buffer.concat(stored.map((r) => r.update)).includes('INJECTED')).toBe(false);
}

describe("a therapist writing under the prescriber's Yjs client id", () => {
  it.each([
    { from: 'the log of updates', compactAfter: 1000 },
    { from: 'a compacted snapshot', compactAfter: 1 },
  ])('is refused once the document was reloaded from $from', async ({ compactAfter }) => {
    const server = await start({ compactAfter });
    const team = await newPlan(server);
    const rx = await open(server, team.planId, team.prescriber);
    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM');
    await eventually(
      async () => (await graphqlTexts(team.prescriber, team.planId)).medication === 'Ketamine 0.5 mg/kg IM',
    );
    const rxDoc = offline(rx);
    await eventually(() => server.app.loadedDocuments() === 0);
    if (compactAfter === 1) {
      await eventually(
        async () =>
          (
            await server.sql('select 1 from plan_update where plan_id = $1 and clinician_id is not null', [
              team.planId,
            ])
          ).length === 0,
      );
    }

    const tx = await open(server, team.planId, team.therapist);
    expect(tx.text('medication')).toBe('Ketamine 0.5 mg/kg IM');
    expect(await writeAsPrescriber(tx, rxDoc.clientID)).toContain('another editor');

    const back = await open(server, team.planId, team.prescriber, rxDoc);
    await prescriberKeepsEditing(server, team, back, tx);
  });

  it('is refused after a restart of the server', async () => {
    const first = await start({ compactAfter: 3 });
    const team = await newPlan(first);
    const rx = await open(first, team.planId, team.prescriber);
    for (const word of ['Ketamine', ' 0.5 mg/kg', ' IM']) {
      rx.doc.getText('medication').insert(rx.text('medication').length, word);
      await eventually(
        async () => (await graphqlTexts(team.prescriber, team.planId)).medication === rx.text('medication'),
      );
    }
    const rxDoc = offline(rx);
    await eventually(() => first.app.loadedDocuments() === 0);
    await first.close();
    servers.splice(servers.indexOf(first), 1);

    const second = await start({ databaseUrl: first.databaseUrl });
    const same = (who: TestClinician) =>
      second.clinician(who.role, { sub: who.sub, email: who.email, name: who.name });
    Object.assign(team, { prescriber: await same(team.prescriber), therapist: await same(team.therapist) });
    const tx = await open(second, team.planId, team.therapist);
    expect(tx.text('medication')).toBe('Ketamine 0.5 mg/kg IM');
    expect(await writeAsPrescriber(tx, rxDoc.clientID)).toContain('another editor');

    const back = await open(second, team.planId, team.prescriber, rxDoc);
    await prescriberKeepsEditing(second, team, back, tx);
  });

  it('is refused on another instance that had the document open when the prescriber wrote', async () => {
    const here = await start();
    const there = await start({ databaseUrl: here.databaseUrl });
    const team = await newPlan(here);
    const tx = await open(there, team.planId, team.therapist);
    const rx = await open(here, team.planId, team.prescriber);
    rx.doc.getText('medication').insert(0, 'Ketamine 0.5 mg/kg IM');
    await tx.until(
      () => tx.text('medication') === 'Ketamine 0.5 mg/kg IM',
      "the prescriber's edit on the other instance",
    );

    expect(await writeAsPrescriber(tx, rx.doc.clientID)).toContain('another editor');
    await prescriberKeepsEditing(here, team, rx, tx);
  });
});
