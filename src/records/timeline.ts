import type { EntityManager } from '@mikro-orm/postgresql';
import { READ_ACTION } from '../domain/audit';
import {
  Consent,
  EligibilityAssessment,
  Measure,
  Prescription,
  ScoreAlert,
  TreatmentCourse,
  TreatmentSession,
} from '../entities';
import { badInput } from '../errors';
import {
  pageRequest,
  toConnection,
  type ConnectionShape,
  type PageArguments,
  type PageRequest,
} from './paging';
import { PerPatient } from './perPatient';
import type { PatientRow } from './rows';
import type { RequestScope } from './scope';

/** What kind of event of a patient's record a timeline entry is. */
export enum TimelineKind {
  COURSE_OPENED = 'COURSE_OPENED',
  COURSE_CLOSED = 'COURSE_CLOSED',
  ELIGIBILITY_ASSESSMENT = 'ELIGIBILITY_ASSESSMENT',
  CONSENT = 'CONSENT',
  PRESCRIPTION = 'PRESCRIPTION',
  SESSION = 'SESSION',
  MEASURE = 'MEASURE',
  SCORE_ALERT = 'SCORE_ALERT',
}
/** The records a timeline entry may show. */
export type TimelineRecord =
  TreatmentCourse | EligibilityAssessment | Consent | Prescription | TreatmentSession | Measure | ScoreAlert;

/**
 * One event of the patient's record, at the time it happened (a session: when held, else when planned;
 * a course: once when it opened and once when it closed). GraphQL's `TimelineEntry`.
 */
export interface TimelineEvent {
  at: Date;
  kind: TimelineKind;
  item: TimelineRecord;
}

interface PatientEntry {
  patientId: string;
  entry: TimelineEvent;
}

/** Where each kind of event lives, how it is loaded and how its read is audited. */
const SOURCES: Record<
  TimelineKind,
  { entity: new () => TimelineRecord; entityName: keyof typeof READ_ACTION }
> = {
  [TimelineKind.COURSE_OPENED]: { entity: TreatmentCourse, entityName: 'TreatmentCourse' },
  [TimelineKind.COURSE_CLOSED]: { entity: TreatmentCourse, entityName: 'TreatmentCourse' },
  [TimelineKind.ELIGIBILITY_ASSESSMENT]: {
    entity: EligibilityAssessment,
    entityName: 'EligibilityAssessment',
  },
  [TimelineKind.CONSENT]: { entity: Consent, entityName: 'Consent' },
  [TimelineKind.PRESCRIPTION]: { entity: Prescription, entityName: 'Prescription' },
  [TimelineKind.SESSION]: { entity: TreatmentSession, entityName: 'TreatmentSession' },
  [TimelineKind.MEASURE]: { entity: Measure, entityName: 'Measure' },
  [TimelineKind.SCORE_ALERT]: { entity: ScoreAlert, entityName: 'ScoreAlert' },
};

/**
 * One query finds a page of events for every patient of a page, across every table, newest first
 * (oldest first when paging from the end, `last`), numbered within each patient; then each kind on the
 * pages is loaded with one more: at most nine statements whatever the page size and however many patients.
 */
const pageSql = (order: 'asc' | 'desc') => `
  select kind, id::text, at, patient_id::text, page_row from (
    select events.*, row_number() over (partition by patient_id order by at ${order}, kind ${order}, id ${order}) as page_row from (
      select 'COURSE_OPENED' as kind, id, opened_at as at, patient_id from treatment_course where patient_id in (?)
      union all select 'COURSE_CLOSED', id, closed_at, patient_id from treatment_course where patient_id in (?) and closed_at is not null
      union all select 'ELIGIBILITY_ASSESSMENT', id, assessed_at, patient_id from eligibility_assessment where patient_id in (?)
      union all select 'CONSENT', id, recorded_at, patient_id from consent where patient_id in (?)
      union all select 'PRESCRIPTION', id, prescribed_at, patient_id from prescription where patient_id in (?)
      union all select 'SESSION', id, coalesce(completed_at, scheduled_at), patient_id from treatment_session where patient_id in (?)
      union all select 'MEASURE', id, administered_at, patient_id from measure where patient_id in (?)
      union all select 'SCORE_ALERT', id, created_at, patient_id from score_alert where patient_id in (?)
    ) events
    where (?::timestamptz is null or (at, kind, id::text) < (?::timestamptz, ?, ?))
      and (?::timestamptz is null or (at, kind, id::text) > (?::timestamptz, ?, ?))
  ) numbered
  where page_row <= ?
  order by patient_id, page_row`;

interface PageRow {
  kind: TimelineKind;
  id: string;
  at: Date;
  patient_id: string;
  page_row: string | number;
}

/** Every event of one patient, for `totalCount`. */
const COUNT_SQL = `
  select count(*)::int as n from (
    select id from treatment_course where patient_id = ?
    union all select id from treatment_course where patient_id = ? and closed_at is not null
    union all select id from eligibility_assessment where patient_id = ?
    union all select id from consent where patient_id = ?
    union all select id from prescription where patient_id = ?
    union all select id from treatment_session where patient_id = ?
    union all select id from measure where patient_id = ?
    union all select id from score_alert where patient_id = ?
  ) events`;

/** The patient's record in time order, for the front end's main view. */
export class TimelineRecords {
  constructor(private readonly scope: RequestScope) {}

  private readonly pages = new PerPatient(
    (ids: string[], page: PageRequest) => this.readPages(ids, page),
    (e: PatientEntry) => e.patientId,
  );

  /**
   * For a patient already reached through the care-team check; the patients of a page together.
   * Newest first: `first`/`after` page back in time, `last`/`before` towards the newest.
   */
  async forPatient(
    patient: PatientRow,
    args: PageArguments,
    paging: { defaultFirst: number; firstGiven: boolean },
  ): Promise<ConnectionShape<TimelineEvent>> {
    const page = pageRequest(args, paging);
    const entries = (await this.pages.of(patient.id, page)).map((e) => e.entry);
    const connection = toConnection(
      entries,
      page,
      (e) => `${e.at.toISOString()}|${e.kind}|${(e.item as { id: string }).id}`,
      async () =>
        (
          await this.scope.em.getConnection().execute<{ n: number }[]>(COUNT_SQL, Array(8).fill(patient.id))
        )[0].n,
    );
    this.scope.audit(
      ...connection.edges.map(({ node }) => {
        const source = SOURCES[node.kind];
        return {
          action: READ_ACTION[source.entityName],
          patientId: patient.id,
          entity: source.entityName,
          entityId: (node.item as { id: string }).id,
        };
      }),
    );
    return connection;
  }

  /** The `size + 1` events of each patient at the page's end of the cursors' range; the records of the first `size` loaded. */
  private async readPages(patientIds: string[], page: PageRequest): Promise<PatientEntry[]> {
    const after = parseCursor(page.after, 'after');
    const before = parseCursor(page.before, 'before');
    const bound = (cursor: typeof after) => [
      cursor?.at ?? null,
      cursor?.at ?? null,
      cursor?.kind ?? null,
      cursor?.id ?? null,
    ];
    const rows = await this.scope.em
      .getConnection()
      .execute<PageRow[]>(pageSql(page.fromEnd ? 'asc' : 'desc'), [
        ...Array(8).fill(patientIds),
        ...bound(after),
        ...bound(before),
        page.size + 1,
      ]);
    const records = await this.load(
      this.scope.em,
      rows.filter((row) => Number(row.page_row) <= page.size),
    );
    return rows.map((row) => ({
      patientId: row.patient_id,
      // The extra row past the page only tells there is a next page; its record is not read.
      entry: {
        at: new Date(row.at),
        kind: row.kind,
        item: records.get(`${row.kind}:${row.id}`)!,
      },
    }));
  }

  private async load(
    em: EntityManager,
    rows: { kind: TimelineKind; id: string }[],
  ): Promise<Map<string, TimelineRecord>> {
    const loaded = new Map<string, TimelineRecord>();
    const byKind = new Map<TimelineKind, string[]>();
    for (const row of rows) byKind.set(row.kind, [...(byKind.get(row.kind) ?? []), row.id]);
    await Promise.all(
      [...byKind].map(async ([kind, ids]) => {
        const found = (await em.find(SOURCES[kind].entity, { id: { $in: ids } })) as TimelineRecord[];
        for (const record of found) loaded.set(`${kind}:${record.id}`, record);
      }),
    );
    return loaded;
  }
}

function parseCursor(
  key: string | undefined,
  argument: string,
): { at: string; kind: string; id: string } | undefined {
  if (key === undefined) return undefined;
  const [at, kind, id] = key.split('|');
  if (!at || Number.isNaN(Date.parse(at)) || !(kind in SOURCES) || !id || !/^[0-9a-f-]{36}$/.test(id))
    throw badInput(`${argument} is not a valid cursor`);
  return { at, kind, id };
}
