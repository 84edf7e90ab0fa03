import { Reference, type EntityClass } from '@mikro-orm/core';
import type { CareTeamMember, Clinician, Measure, Patient, ScoreAlert } from '../entities';
import type { RequestScope } from './scope';

/**
 * Records as the hot reads return them (a page of patients with their care teams, measures and
 * alerts): plain objects from one statement's JSON, with no entity, identity map or unit of work
 * behind them. GraphQL answers them field by field as it answers entities, and every field resolver of
 * these types takes either: a managed entity (what writes and subscriptions return) has the same
 * fields, and its relations have the `id` a row's do. Building a page's entities was most of this
 * server's time per request (BENCHMARKS.md, issue 15).
 */

/** A relation of a record as a row holds it: the other record's id. */
export interface Reached {
  readonly id: string;
}

/** What the schema shows of each (no more: a page's rows are built on every request). */
export type PatientRow = Pick<Patient, 'id' | 'firstName' | 'lastName' | 'dateOfBirth' | 'status'>;

export type ClinicianRow = Pick<Clinician, 'id' | 'email' | 'name' | 'role'>;

/** A care team's member with its clinician, read with it. */
export type CareTeamMemberRow = Pick<CareTeamMember, 'id' | 'role' | 'addedAt'> & {
  patient: Reached;
  clinician: ClinicianRow;
};

export type MeasureRow = Pick<
  Measure,
  'id' | 'instrument' | 'responses' | 'totalScore' | 'severity' | 'administeredAt'
> & { patient: Reached; course: Reached; recordedBy: Reached };

/**
 * A measure as its write returns it, with the alerts the same statement stored: they answer the
 * measure's `alerts` field, so the write's answer reads nothing again.
 */
export type WrittenMeasureRow = MeasureRow & { readonly storedAlerts: readonly AlertRow[] };

export type AlertRow = Pick<
  ScoreAlert,
  'id' | 'instrument' | 'kind' | 'level' | 'message' | 'createdAt' | 'acknowledgedAt'
> & {
  patient: Reached;
  course: Reached;
  measure?: Reached;
  /** The measure itself, when it was read with the alert (a live alert's). */
  loadedMeasure?: MeasureRow;
  session?: Reached;
  acknowledgedBy?: Reached;
};

/** A row as PostgreSQL's `json_agg` spells it: column names, instants as ISO strings. */
type Json = Record<string, unknown>;

const instant = (value: unknown) => new Date(value as string);
const reached = (value: unknown): Reached | undefined =>
  value === null || value === undefined ? undefined : { id: value as string };

export function patientRow(row: Json): PatientRow {
  return {
    id: row.id as string,
    firstName: row.first_name as string,
    lastName: row.last_name as string,
    dateOfBirth: row.date_of_birth as string,
    status: row.status as Patient['status'],
  };
}

export function clinicianRow(row: Json): ClinicianRow {
  return {
    id: row.id as string,
    email: row.email as string,
    name: row.name as string,
    role: row.role as Clinician['role'],
  };
}

/** A member's row with its clinician's under `clinician`. */
export function careTeamMemberRow(row: Json): CareTeamMemberRow {
  return {
    id: row.id as string,
    role: row.role as CareTeamMember['role'],
    addedAt: instant(row.added_at),
    patient: { id: row.patient_id as string },
    clinician: clinicianRow(row.clinician as Json),
  };
}

export function measureRow(row: Json): MeasureRow {
  return {
    id: row.id as string,
    patient: { id: row.patient_id as string },
    course: { id: row.course_id as string },
    instrument: row.instrument as Measure['instrument'],
    responses: row.responses as number[],
    totalScore: row.total_score as number,
    severity: row.severity as Measure['severity'],
    administeredAt: instant(row.administered_at),
    recordedBy: { id: row.recorded_by_id as string },
  };
}

export function alertRow(row: Json): AlertRow {
  return {
    id: row.id as string,
    patient: { id: row.patient_id as string },
    course: { id: row.course_id as string },
    measure: reached(row.measure_id),
    session: reached(row.session_id),
    instrument: (row.instrument ?? undefined) as ScoreAlert['instrument'],
    kind: row.kind as ScoreAlert['kind'],
    level: row.level as ScoreAlert['level'],
    message: row.message as string,
    createdAt: instant(row.created_at),
    acknowledgedAt: row.acknowledged_at == null ? undefined : instant(row.acknowledged_at),
    acknowledgedBy: reached(row.acknowledged_by_id),
  };
}

/**
 * The record a relation names, as a managed entity: the one read with the entity holding it (a
 * subscription's item is read with what its payload shows, in a fork of its own), from the request's
 * identity map when an entity holding it was read or written here, or else read through MikroORM's
 * dataloader (the relations of a page's rows in one query per kind). For fields a page rarely asks
 * for; the caller has already passed the care-team check for the record holding the relation.
 */
export function reach<T extends object>(
  scope: RequestScope,
  entity: EntityClass<T>,
  relation: Reached,
): Promise<T | null> {
  if (Reference.isReference<T>(relation) && relation.isInitialized())
    return Promise.resolve(relation.unwrap());
  return scope.em.getReference(entity, relation.id as never, { wrapped: true }).load() as Promise<T | null>;
}
