import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  MeDocument,
  RecordMeasureDocument,
  RemoveCareTeamMemberDocument,
  ScoreAlertsDocument,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { collect, eventually } from './support/subscription';

/** Where the measures are written. */
let writing: TestServer;
/** Another instance on the same database, where the one subscriber is. */
let watching: TestServer;
beforeAll(async () => {
  writing = await startTestServer();
  watching = await startTestServer({ databaseUrl: writing.databaseUrl });
});
afterAll(async () => {
  await watching.close();
  await writing.close();
});

const CRITICAL = [1, 1, 1, 0, 0, 0, 0, 0, 1];

describe("an instance works for an event only when it has a subscriber on the patient's team", () => {
  it('reads nothing for an alert none of its subscribers may receive, and follows care-team changes', async () => {
    const writer = await writing.clinician(Role.PRESCRIBER);
    const watcher = await writing.clinician(Role.THERAPIST);
    const { me } = await watcher.http.request(MeDocument);
    const patient = (team: TestClinician[]) =>
      patientWithTeam(writer, team, { firstName: 'Index', lastName: 'Case', dateOfBirth: '1990-09-09' });
    const watched = await patient([watcher]);
    const other = await patient([]);
    const alertOn = async (patientId: string) =>
      (
        await writer.http.request(RecordMeasureDocument, {
          input: { patientId, instrument: 'PHQ9', responses: CRITICAL },
        })
      ).recordMeasure.alerts[0].id;

    const base = watching.app.liveSubscriptions();
    const live = collect(watching.ws(watcher.token), ScoreAlertsDocument, {});
    await eventually(() => watching.app.liveSubscriptions() === base + 1);
    const received = () => live.received.map((r) => r.scoreAlert.id);

    // What one delivered alert costs the watching instance, its patient's team already known.
    const warm = await alertOn(watched);
    await eventually(() => received().includes(warm));
    let mark = watching.queries.length;
    const one = await alertOn(watched);
    await eventually(() => received().includes(one));
    const delivery = watching.queries.slice(mark);
    expect(delivery.length).toBeGreaterThan(0);

    // An alert on a patient whose team has no subscriber here, then one on the watched patient: the
    // first cost the watching instance no statement at all.
    mark = watching.queries.length;
    const unseen = await alertOn(other);
    const seen = await alertOn(watched);
    await eventually(() => received().includes(seen));
    expect(watching.queries.slice(mark).length).toBe(delivery.length);

    // Joining a team is heard: the next alert on that patient reaches the subscriber.
    await writer.http.request(AddCareTeamMemberDocument, { patientId: other, email: watcher.email });
    const joined = await alertOn(other);
    await eventually(() => received().includes(joined));

    // Leaving one is too: its alerts cost the watching instance nothing and reach no one there.
    await writer.http.request(RemoveCareTeamMemberDocument, { patientId: watched, clinicianId: me.id });
    mark = watching.queries.length;
    const left = await alertOn(watched);
    const marker = await alertOn(other);
    await eventually(() => received().includes(marker));
    expect(watching.queries.slice(mark).length).toBe(delivery.length);

    expect(received()).toEqual([warm, one, seen, joined, marker]);
    expect(received()).not.toContain(unseen);
    expect(received()).not.toContain(left);
    live.stop();
  });

  it('reads an alert once with its measure for subscribers of both roles: no second read of the measure', async () => {
    const writer = await writing.clinician(Role.PRESCRIBER);
    const watchers = [await writing.clinician(Role.PRESCRIBER), await writing.clinician(Role.THERAPIST)];
    for (const watcher of watchers) await watcher.http.request(MeDocument);
    const patientId = await patientWithTeam(writer, watchers, {
      firstName: 'Two',
      lastName: 'Roles',
      dateOfBirth: '1985-03-03',
    });
    const alertOn = async () =>
      (
        await writer.http.request(RecordMeasureDocument, {
          input: { patientId, instrument: 'PHQ9', responses: CRITICAL },
        })
      ).recordMeasure.alerts[0].id;
    // The two roles are two groups of alike subscriptions, each executed on its own (src/graphql/sharedExecution.ts).
    const document = parse('subscription { scoreAlert { id measure { id } } }') as TypedDocumentNode<
      { scoreAlert: { id: string; measure: { id: string } } },
      Record<string, never>
    >;
    const base = watching.app.liveSubscriptions();
    const live = watchers.map((watcher) => collect(watching.ws(watcher.token), document, {}));
    await eventually(() => watching.app.liveSubscriptions() === base + watchers.length);
    await eventually(() => live.every((l) => l.received.length === 0));
    const warm = await alertOn();
    await Promise.all(live.map((l) => l.until(1)));
    expect(live.map((l) => l.received[0].scoreAlert.id)).toEqual([warm, warm]);

    const mark = watching.queries.length;
    await alertOn();
    await Promise.all(live.map((l) => l.until(2)));
    const delivery = watching.queries.slice(mark);
    // The alert read with its measure, then the receipts' audit rows (one insert, or one per group).
    expect(delivery.filter((sql) => /^select/i.test(sql.trim()))).toHaveLength(1);
    expect(delivery.filter((sql) => /from "measure"/.test(sql))).toEqual([]);
    expect(delivery.length).toBeLessThanOrEqual(3);
    for (const l of live) l.stop();
  });

  it("reads a subscriber's patients' teams with the patients: the first alert on each reads no team", async () => {
    const writer = await writing.clinician(Role.PRESCRIBER);
    const watcher = await writing.clinician(Role.THERAPIST);
    await watcher.http.request(MeDocument);
    const patients = [];
    for (const lastName of ['Warm', 'First', 'Second'])
      patients.push(
        await patientWithTeam(writer, [watcher], { firstName: 'Team', lastName, dateOfBirth: '1970-07-07' }),
      );
    const base = watching.app.liveSubscriptions();
    const live = collect(watching.ws(watcher.token), ScoreAlertsDocument, {});
    await eventually(() => watching.app.liveSubscriptions() === base + 1);
    for (const [n, patientId] of patients.entries()) {
      const mark = watching.queries.length;
      await writer.http.request(RecordMeasureDocument, {
        input: { patientId, instrument: 'PHQ9', responses: CRITICAL },
      });
      await live.until(n + 1);
      // The subscription counts as started before its patients' read has answered: the first alert
      // may come before it (and then reads its team, as it should); the read is long done by the next.
      if (n > 0)
        expect(watching.queries.slice(mark).filter((sql) => /care_team_member/.test(sql))).toEqual([]);
    }
    live.stop();
  });
});
