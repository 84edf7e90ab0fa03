import type { EntityManager } from '@mikro-orm/postgresql';
import { runStatement } from '../db/prepared';
import type { EventHub } from '../events/hub';

/**
 * Who is on each patient's care team, kept in memory for the live subscriptions. Every event is
 * checked against its patient's team before anyone receives it; read from the database each time,
 * that check was a query on the path of every alert.
 *
 * Kept exact by the hub: every change to a care team is announced (`careTeamJoined`,
 * `careTeamLeft`, sent inside the changing transaction), and PostgreSQL delivers notifications in
 * commit order on this instance's one LISTEN connection, so a changed team is forgotten here before
 * any event committed after the change is checked. A lost connection may have missed changes: then
 * every team is forgotten. The teams of a subscriber's patients are read with those patients, when
 * the subscription starts: read one by one at each patient's first event, they had alerts wait for
 * the delivery connections behind them (BENCHMARKS.md, issue 19).
 */
export interface CareTeamDirectory {
  /** The clinician ids on the patient's care team, as of the last change this instance heard of. */
  members(patientId: string): Promise<ReadonlySet<string>>;
  /**
   * Read from the database, for what a stale answer must not decide: an event committed before a
   * clinician joined can reach this instance after that clinician subscribed.
   */
  refresh(patientId: string): Promise<ReadonlySet<string>>;
  /**
   * The ids of the patients on whose care teams the clinician is, from the database, in the same
   * statement as those patients' teams, which are then kept as `members` keeps them: a subscriber's
   * patients cost no read at their first event. A team that changed while they were being read is
   * not kept (its next event reads it), nor one already kept or being read.
   */
  patientsOf(clinicianId: string): Promise<string[]>;
}

export function careTeamDirectory(
  hub: EventHub,
  reads: {
    /** One patient's team. */
    team: (patientId: string) => Promise<string[]>;
    /** The teams of every patient on whose team the clinician is, by patient. */
    teamsOf: (clinicianId: string) => Promise<Map<string, string[]>>;
  },
  /** Patients whose teams are kept; the longest unused are dropped first. */
  capacity = 10_000,
): CareTeamDirectory {
  const teams = new Map<string, Promise<ReadonlySet<string>>>();
  /**
   * For each read of a clinician's patients' teams under way, the patients whose teams changed
   * meanwhile (`all` once the connection was lost): such a team may predate a change already heard.
   */
  const changedDuring = new Set<{ patients: Set<string>; all: boolean }>();

  hub.listen((event) => {
    if (event.type !== 'careTeamJoined' && event.type !== 'careTeamLeft') return;
    teams.delete(event.patientId);
    for (const changed of changedDuring) changed.patients.add(event.patientId);
  });
  hub.onReconnect(() => {
    teams.clear();
    for (const changed of changedDuring) changed.all = true;
  });

  const keep = (patientId: string, team: Promise<ReadonlySet<string>>) => {
    teams.set(patientId, team);
    if (teams.size > capacity) teams.delete(teams.keys().next().value as string);
  };

  const load = (patientId: string): Promise<ReadonlySet<string>> => {
    const team = reads.team(patientId).then((ids) => new Set(ids) as ReadonlySet<string>);
    keep(patientId, team);
    // A failed read is not kept: the next event reads again. Nor is a read that a change overtook,
    // which has already been deleted (or replaced) by then.
    team.catch(() => {
      if (teams.get(patientId) === team) teams.delete(patientId);
    });
    return team;
  };

  return {
    members(patientId) {
      const team = teams.get(patientId);
      if (!team) return load(patientId);
      // Most recently used last, so the capacity drops the longest unused.
      teams.delete(patientId);
      teams.set(patientId, team);
      return team;
    },
    refresh: load,
    async patientsOf(clinicianId) {
      const changed = { patients: new Set<string>(), all: false };
      changedDuring.add(changed);
      try {
        const read = await reads.teamsOf(clinicianId);
        for (const [patientId, ids] of read) {
          if (changed.all || changed.patients.has(patientId) || teams.has(patientId)) continue;
          keep(patientId, Promise.resolve(new Set(ids)));
        }
        return [...read.keys()];
      } finally {
        changedDuring.delete(changed);
      }
    },
  };
}

/** The clinician ids on a patient's care team, from the database (on the path of an alert, so prepared). */
export async function readCareTeam(em: EntityManager, patientId: string): Promise<string[]> {
  const rows = await runStatement(em, 'select clinician_id from care_team_member where patient_id = ?', [
    patientId,
  ]);
  return rows.map((row) => row.clinician_id as string);
}

/** The care teams of every patient on whose team the clinician is, by patient, from the database. */
export async function readTeamsOf(em: EntityManager, clinicianId: string): Promise<Map<string, string[]>> {
  const rows = await runStatement(
    em,
    `select patient_id, array_agg(clinician_id) as team from care_team_member
     where patient_id in (select patient_id from care_team_member where clinician_id = ?) group by patient_id`,
    [clinicianId],
  );
  return new Map(rows.map((row) => [row.patient_id as string, row.team as string[]]));
}
