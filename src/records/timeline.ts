import type { EntityManager } from '@mikro-orm/postgresql';
import { Consent, EligibilityAssessment, Measure, Prescription, ScoreAlert, TreatmentCourse, TreatmentSession, type Patient } from '../entities';
import { badInput } from '../errors';
import { decodeCursor, pageSize, toConnection, type ConnectionShape } from '../schema/connection';
import { TimelineEntry, TimelineKind, type TimelineRecord } from '../schema/TimelineEntry';
import type { RequestScope } from './scope';

/** Where each kind of event lives, how it is loaded and how its read is audited. */
const SOURCES: Record<TimelineKind, { entity: new () => TimelineRecord; action: string; entityName: string }> = {
  [TimelineKind.COURSE_OPENED]: { entity: TreatmentCourse, action: 'course.read', entityName: 'TreatmentCourse' },
  [TimelineKind.COURSE_CLOSED]: { entity: TreatmentCourse, action: 'course.read', entityName: 'TreatmentCourse' },
  [TimelineKind.ELIGIBILITY_ASSESSMENT]: { entity: EligibilityAssessment, action: 'eligibility.read', entityName: 'EligibilityAssessment' },
  [TimelineKind.CONSENT]: { entity: Consent, action: 'consent.read', entityName: 'Consent' },
  [TimelineKind.PRESCRIPTION]: { entity: Prescription, action: 'prescription.read', entityName: 'Prescription' },
  [TimelineKind.SESSION]: { entity: TreatmentSession, action: 'session.read', entityName: 'TreatmentSession' },
  [TimelineKind.MEASURE]: { entity: Measure, action: 'measure.read', entityName: 'Measure' },
  [TimelineKind.SCORE_ALERT]: { entity: ScoreAlert, action: 'alert.read', entityName: 'ScoreAlert' },
};

/**
 * One query finds a page of events across every table, newest first; then each kind on the page is
 * loaded with one more: at most nine statements whatever the page size.
 */
const PAGE_SQL = `
  select kind, id::text, at from (
    select 'COURSE_OPENED' as kind, id, opened_at as at from treatment_course where patient_id = ?
    union all select 'COURSE_CLOSED', id, closed_at from treatment_course where patient_id = ? and closed_at is not null
    union all select 'ELIGIBILITY_ASSESSMENT', id, assessed_at from eligibility_assessment where patient_id = ?
    union all select 'CONSENT', id, recorded_at from consent where patient_id = ?
    union all select 'PRESCRIPTION', id, prescribed_at from prescription where patient_id = ?
    union all select 'SESSION', id, coalesce(completed_at, scheduled_at) from treatment_session where patient_id = ?
    union all select 'MEASURE', id, administered_at from measure where patient_id = ?
    union all select 'SCORE_ALERT', id, created_at from score_alert where patient_id = ?
  ) events
  where (?::timestamptz is null or (at, kind, id::text) < (?::timestamptz, ?, ?))
  order by at desc, kind desc, id desc
  limit ?`;

/** The patient's record in time order, for the front end's main view. */
export class TimelineRecords {
  constructor(private readonly scope: RequestScope) {}

  /** For a patient already reached through the care-team check. */
  async forPatient(patient: Patient, args: { first: number; after?: string | null }): Promise<ConnectionShape<TimelineEntry>> {
    const first = pageSize(args.first);
    const after = parseAfter(decodeCursor(args.after));
    const rows = await this.scope.em.getConnection().execute<{ kind: TimelineKind; id: string; at: Date }[]>(PAGE_SQL, [
      ...Array(8).fill(patient.id),
      after?.at ?? null,
      after?.at ?? null,
      after?.kind ?? null,
      after?.id ?? null,
      first + 1,
    ]);
    const records = await this.load(this.scope.em, rows.slice(0, first));
    const entries = rows.map((row) => Object.assign(new TimelineEntry(), { at: new Date(row.at), kind: row.kind, item: records.get(`${row.kind}:${row.id}`)! }));
    const connection = toConnection(entries, first, (e) => `${e.at.toISOString()}|${e.kind}|${(e.item as { id: string }).id}`);
    this.scope.audit(
      ...connection.edges.map(({ node }) => {
        const source = SOURCES[node.kind];
        return { action: source.action, patientId: patient.id, entity: source.entityName, entityId: (node.item as { id: string }).id };
      }),
    );
    return connection;
  }

  private async load(em: EntityManager, rows: { kind: TimelineKind; id: string }[]): Promise<Map<string, TimelineRecord>> {
    const loaded = new Map<string, TimelineRecord>();
    const byKind = new Map<TimelineKind, string[]>();
    for (const row of rows) byKind.set(row.kind, [...(byKind.get(row.kind) ?? []), row.id]);
    await Promise.all(
      [...byKind].map(async ([kind, ids]) => {
        const found = (await em.find(SOURCES[kind].entity, { id: { $in: ids } } as never)) as TimelineRecord[];
        for (const record of found) loaded.set(`${kind}:${record.id}`, record);
      }),
    );
    return loaded;
  }
}

function parseAfter(key: string | undefined): { at: string; kind: string; id: string } | undefined {
  if (key === undefined) return undefined;
  const [at, kind, id] = key.split('|');
  if (!at || Number.isNaN(Date.parse(at)) || !(kind in SOURCES) || !id || !/^[0-9a-f-]{36}$/.test(id)) throw badInput('after is not a valid cursor');
  return { at, kind, id };
}
