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
 * every team is forgotten.
 */
export interface CareTeamDirectory {
  /** The clinician ids on the patient's care team, as of the last change this instance heard of. */
  members(patientId: string): Promise<ReadonlySet<string>>;
  /**
   * Read from the database, for what a stale answer must not decide: an event committed before a
   * clinician joined can reach this instance after that clinician subscribed.
   */
  refresh(patientId: string): Promise<ReadonlySet<string>>;
}

export function careTeamDirectory(
  hub: EventHub,
  read: (patientId: string) => Promise<string[]>,
  /** Patients whose teams are kept; the longest unused are dropped first. */
  capacity = 10_000,
): CareTeamDirectory {
  const teams = new Map<string, Promise<ReadonlySet<string>>>();

  hub.listen((event) => {
    if (event.type === 'careTeamJoined' || event.type === 'careTeamLeft') teams.delete(event.patientId);
  });
  hub.onReconnect(() => teams.clear());

  const load = (patientId: string): Promise<ReadonlySet<string>> => {
    const team = read(patientId).then((ids) => new Set(ids) as ReadonlySet<string>);
    teams.set(patientId, team);
    if (teams.size > capacity) teams.delete(teams.keys().next().value as string);
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
  };
}

/** The clinician ids on a patient's care team, from the database (on the path of an alert, so prepared). */
export async function readCareTeam(em: EntityManager, patientId: string): Promise<string[]> {
  const rows = await runStatement(em, 'select clinician_id from care_team_member where patient_id = ?', [
    patientId,
  ]);
  return rows.map((row) => row.clinician_id as string);
}

/** The ids of the patients on whose care teams the clinician is, from the database. */
export async function readPatientsOf(em: EntityManager, clinicianId: string): Promise<string[]> {
  const rows = await em
    .getConnection()
    .execute<{ patient_id: string }[]>('select patient_id from care_team_member where clinician_id = ?', [
      clinicianId,
    ]);
  return rows.map((row) => row.patient_id);
}
