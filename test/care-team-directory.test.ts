import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { careTeamDirectory } from '../src/auth/careTeams';
import type { CareEvent } from '../src/events/events';
import type { EventHub } from '../src/events/hub';

/**
 * The directory's own rule, with the database and the hub played by this test: the teams it keeps
 * from a read of a clinician's patients are never older than a care-team change it has heard. (The
 * directory over a real database and LISTEN connection: test/live-index.test.ts.)
 */

const PATIENTS = ['p0', 'p1', 'p2', 'p3'];
const CLINICIANS = ['c0', 'c1', 'c2'];

/** A database of care teams, with the events of its changes heard at once, in commit order. */
function world() {
  const teams = new Map<string, Set<string>>(PATIENTS.map((p) => [p, new Set<string>()]));
  const listeners: ((event: CareEvent) => void)[] = [];
  const reconnects: (() => void)[] = [];
  const hub = {
    listen: (listener: (event: CareEvent) => void) => (listeners.push(listener), () => undefined),
    onReconnect: (listener: () => void) => (reconnects.push(listener), () => undefined),
  } as unknown as EventHub;
  const snapshotOf = (clinicianId: string) =>
    new Map(
      [...teams]
        .filter(([, team]) => team.has(clinicianId))
        .map(([patientId, team]) => [patientId, [...team]] as [string, string[]]),
    );
  /** Reads of a clinician's patients' teams under way, each answered with the state when it began. */
  const pending: { answer: () => void }[] = [];
  const directory = careTeamDirectory(hub, {
    team: async (patientId) => [...teams.get(patientId)!],
    teamsOf: (clinicianId) => {
      const snapshot = snapshotOf(clinicianId);
      return new Promise((resolve) => pending.push({ answer: () => resolve(snapshot) }));
    },
  });
  return {
    directory,
    pending,
    change(patientId: string, clinicianId: string, join: boolean, heard: boolean) {
      const team = teams.get(patientId)!;
      if (join === team.has(clinicianId)) return;
      if (join) team.add(clinicianId);
      else team.delete(clinicianId);
      const event = {
        type: join ? 'careTeamJoined' : 'careTeamLeft',
        id: `${patientId}:${clinicianId}:${Math.random()}`,
        patientId,
        clinicianId,
      } as CareEvent;
      // Unheard (the LISTEN connection was lost), it is followed at once by the reconnect.
      if (heard) for (const listener of listeners) listener(event);
      else for (const listener of reconnects) listener();
    },
    current: (patientId: string) => [...teams.get(patientId)!].sort(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the care-team directory keeps no team older than a change it heard', () => {
  it('keeps the teams read with a clinician’s patients: no read at their first event', async () => {
    const w = world();
    w.change('p0', 'c0', true, true);
    w.change('p0', 'c1', true, true);
    w.change('p1', 'c0', true, true);
    const patients = w.directory.patientsOf('c0');
    w.pending.shift()!.answer();
    expect((await patients).sort()).toEqual(['p0', 'p1']);
    let reads = 0;
    const counting = careTeamDirectory(
      { listen: () => () => undefined, onReconnect: () => () => undefined } as unknown as EventHub,
      {
        team: async () => (reads++, []),
        teamsOf: async () => new Map([['p0', ['c0', 'c1']]]),
      },
    );
    await counting.patientsOf('c0');
    expect([...(await counting.members('p0'))].sort()).toEqual(['c0', 'c1']);
    expect(reads).toBe(0);
  });

  it.each([
    ['a change heard while the read was under way', true],
    ['a connection lost while the read was under way', false],
  ])('does not keep a team read before %s', async (_, heard) => {
    const w = world();
    w.change('p0', 'c0', true, true);
    const patients = w.directory.patientsOf('c0');
    // c1 joins after the read's snapshot and before its answer.
    w.change('p0', 'c1', true, heard);
    w.pending.shift()!.answer();
    await patients;
    expect([...(await w.directory.members('p0'))].sort()).toEqual(['c0', 'c1']);
  });

  it('holds under any interleaving of reads, changes, lost connections and events (property)', async () => {
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('change' as const),
        patient: fc.constantFrom(...PATIENTS),
        clinician: fc.constantFrom(...CLINICIANS),
        join: fc.boolean(),
        heard: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('read' as const), clinician: fc.constantFrom(...CLINICIANS) }),
      fc.record({ kind: fc.constant('answer' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('event' as const), patient: fc.constantFrom(...PATIENTS) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const w = world();
        for (const op of operations) {
          if (op.kind === 'change') w.change(op.patient, op.clinician, op.join, op.heard);
          else if (op.kind === 'read') void w.directory.patientsOf(op.clinician);
          else if (op.kind === 'answer' && w.pending.length > 0)
            w.pending.splice(op.which % w.pending.length, 1)[0].answer();
          else if (op.kind === 'event') {
            // An event checked now is checked against the team as the database has it now.
            expect([...(await w.directory.members(op.patient))].sort()).toEqual(w.current(op.patient));
          }
          await settle();
        }
        for (const { answer } of w.pending.splice(0)) answer();
        await settle();
        for (const patient of PATIENTS)
          expect([...(await w.directory.members(patient))].sort()).toEqual(w.current(patient));
      }),
      { numRuns: 300 },
    );
  });
});
