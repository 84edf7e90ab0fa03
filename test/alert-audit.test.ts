import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AddCareTeamMemberDocument,
  CreatePatientDocument,
  MeDocument,
  RecordMeasureDocument,
} from './generated/graphql';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { collect, eventually, type Collector } from './support/subscription';

type Received = { scoreAlert: { id: string; patient: { id: string }; measure: { id: string } | null } };
/** Two operations, so subscribers of one role still form two groups of alike subscriptions. */
const OPERATIONS: TypedDocumentNode<Received, Record<string, never>>[] = [
  // Loads the patient while executing: the shared execution waits on the database while the feed
  // hands the subscriber's other alerts.
  parse('subscription Wide { scoreAlert { id patient { id firstName } measure { id totalScore } } }'),
  parse('subscription Narrow { scoreAlert { id patient { id } measure { id } } }'),
];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** A small deterministic generator, so a failure replays. */
function random(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('audit of live alerts', () => {
  it('names exactly the clinicians who received each alert, once per receipt, under concurrent alerts to overlapping care teams', async () => {
    const next = random(19);
    // Records every measure; on every team and subscribed to nothing, so no receipt of theirs counts.
    const writer = await server.clinician(Role.PRESCRIBER);
    const subscribers: TestClinician[] = [];
    const ids = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const clinician = await server.clinician(i % 3 === 0 ? Role.THERAPIST : Role.PRESCRIBER);
      ids.set(clinician.sub, (await clinician.http.request(MeDocument)).me.id);
      subscribers.push(clinician);
    }

    const teams = new Map<string, Set<string>>();
    for (let p = 0; p < 12; p++) {
      const { createPatient } = await writer.http.request(CreatePatientDocument, {
        input: { firstName: 'Overlap', lastName: `P${p}`, dateOfBirth: '1980-01-01' },
      });
      const team = new Set<string>();
      // Teams of 3 to 10 drawn from the 40: each clinician is on several, each pair of teams shares some.
      while (team.size < 3 + Math.floor(next() * 8))
        team.add(subscribers[Math.floor(next() * subscribers.length)].sub);
      for (const sub of team)
        await writer.http.request(AddCareTeamMemberDocument, {
          patientId: createPatient.id,
          email: subscribers.find((c) => c.sub === sub)!.email,
        });
      teams.set(createPatient.id, team);
    }

    const base = server.app.liveSubscriptions();
    const startedAt = (await server.sql<{ now: Date }>('select now()'))[0].now;
    const watchers = new Map<string, Collector<Received>>();
    subscribers.forEach((clinician, i) =>
      watchers.set(clinician.sub, collect(server.ws(clinician.token), OPERATIONS[i % 2], {})),
    );
    await eventually(() => server.app.liveSubscriptions() === base + subscribers.length);

    // 60 measures, 12 at a time, each raising a SUICIDAL_IDEATION alert (and maybe others).
    const patients = [...teams.keys()];
    const alerts: { id: string; patientId: string; measureId: string }[] = [];
    const queue = Array.from({ length: 60 }, (_, i) => patients[i % patients.length]);
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let patientId = queue.shift(); patientId; patientId = queue.shift()) {
          const { recordMeasure } = await writer.http.request(RecordMeasureDocument, {
            input: {
              patientId,
              instrument: 'PHQ9',
              responses: [1, 1, 1, 0, 0, 0, 0, 0, 1 + Math.floor(next() * 3)],
            },
          });
          for (const alert of recordMeasure.alerts)
            alerts.push({ id: alert.id, patientId, measureId: recordMeasure.id });
        }
      }),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(60);

    // Who should receive what: every subscriber on the alert's patient's team, nobody else.
    const expected = new Map<string, string[]>();
    for (const clinician of subscribers)
      expected.set(
        clinician.sub,
        alerts
          .filter((a) => teams.get(a.patientId)!.has(clinician.sub))
          .map((a) => a.id)
          .sort(),
      );
    for (const [sub, watcher] of watchers) await watcher.until(expected.get(sub)!.length);
    for (const [sub, watcher] of watchers) {
      expect(watcher.errors).toEqual([]);
      expect(watcher.received.map((r) => r.scoreAlert.id).sort()).toEqual(expected.get(sub));
    }

    // Each receipt: one alert.read, one measure.read and one patient.read for that clinician; no other row.
    const receipts: string[] = [];
    const alertById = new Map(alerts.map((a) => [a.id, a]));
    for (const [sub, watcher] of watchers) {
      for (const { scoreAlert } of watcher.received) {
        const alert = alertById.get(scoreAlert.id)!;
        receipts.push(
          `${ids.get(sub)} alert.read ${alert.id}`,
          `${ids.get(sub)} measure.read ${alert.measureId}`,
          `${ids.get(sub)} patient.read ${alert.patientId}`,
        );
      }
    }
    const rows = await server.sql<{ row: string }>(
      `select clinician_id || ' ' || action || ' ' || entity_id as row from audit_event
       where at >= $1 and clinician_id = any($2) and action in ('alert.read', 'measure.read', 'patient.read')`,
      [startedAt, [...ids.values()]],
    );
    expect(rows.map((r) => r.row).sort()).toEqual(receipts.sort());
    for (const watcher of watchers.values()) watcher.stop();
  });
});
