import DataLoader from 'dataloader';
import type { CareTeamAccess } from '../auth/access';
import { AlertKind, changeFromBaseline, decideAlerts, ONCE_PER_COURSE } from '../domain/alerts';
import { READ_ACTION } from '../domain/audit';
import { happenedAtRefusal } from '../domain/clinicalTime';
import { Instrument, responsesRefusal, scoreMeasure } from '../domain/instruments';
import { Measure } from '../entities';
import { runStatement } from '../db/prepared';
import { badInput } from '../errors';
import { isId, newId, parseId } from '../ids';
import {
  pageRequest,
  toConnection,
  type ConnectionShape,
  type PageArguments,
  type PageRequest,
} from './paging';
import { LiveSubscription, type LiveSources } from './liveSubscription';
import { PerPatient } from './perPatient';
import {
  alertRow,
  measureRow,
  reach,
  type AlertRow,
  type MeasureRow,
  type PatientRow,
  type WrittenMeasureRow,
} from './rows';
import type { CourseRecords } from './courses';
import type { AuditEntry, RequestScope } from './scope';
import type { PageIds } from './together';

export interface NewMeasure {
  patientId: string;
  instrument: Instrument;
  responses: number[];
  administeredAt?: Date | null;
}

interface PageArgs {
  instrument: Instrument | null;
  page: PageRequest;
}

const patientOf = (measure: MeasureRow) => measure.patient.id;

/** What a page of one patient's measures is read by. */
const pageArgs = (
  args: { instrument?: Instrument | null } & PageArguments,
  paging: { defaultFirst: number; firstGiven: boolean },
): PageArgs => ({ instrument: args.instrument ?? null, page: pageRequest(args, paging) });

/** Outcome measures of the caller's patients. */
export class MeasureRecords {
  /** The first measure of each course and instrument, keyed `<course id>|<instrument>`; batching only, as PerPatient. */
  private readonly baselines = new DataLoader<string, { id: string; total: number } | undefined>(
    async (keys) => {
      const pairs = keys.map((key) => key.split('|'));
      const rows = await this.scope.em
        .getConnection()
        .execute<{ course_id: string; instrument: string; id: string; total_score: number }[]>(
          `select distinct on (course_id, instrument) course_id, instrument, id, total_score from measure
         where (course_id, instrument) in (${pairs.map(() => '(?, ?)').join(', ')})
         order by course_id, instrument, administered_at asc, id asc`,
          pairs.flat(),
        );
      const first = new Map(
        rows.map((r) => [`${r.course_id}|${r.instrument}`, { id: r.id, total: r.total_score }]),
      );
      return keys.map((key) => first.get(key));
    },
    { cache: false },
  );
  private readonly pages = new PerPatient(
    (ids: string[] | PageIds, args: PageArgs) => this.readPages(ids, args),
    patientOf,
  );
  private readonly newest = new PerPatient(
    async (ids: string[] | PageIds) =>
      (
        await this.scope.together.read({
          sql: `select distinct on (patient_id, instrument) * from measure where patient_id = any(?::uuid[])
            order by patient_id, instrument, administered_at desc, id desc`,
          params: [ids],
        })
      ).map(measureRow),
    patientOf,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly live: LiveSources,
    private readonly courses: CourseRecords,
  ) {}

  /**
   * Scores and stores a measure with the alerts it raises, in one transaction of plain statements in
   * two round trips: the patient's row lock with the care-team check, then (as a statement that starts
   * once the lock is held, so it sees every measure committed before) the course with the history,
   * read only while the caller is on the care team;
   * then the measure with its alerts, the audit rows and the commit. The lock serialises measures of
   * one patient, so baseline, previous and "once" stay consistent. The database announces the measure
   * and its alerts as they are inserted (measureRecorded, scoreAlert), at commit. The measure comes
   * back with the alerts as stored, which answer its `alerts` field.
   */
  async record(input: NewMeasure): Promise<WrittenMeasureRow> {
    this.access.requireRole('recordMeasures');
    const patientId = parseId(input.patientId, 'patientId');
    const refusal = responsesRefusal(input.instrument, input.responses);
    if (refusal) throw badInput(refusal);
    const { total, severity } = scoreMeasure(input.instrument, input.responses);
    const administeredAt = input.administeredAt ?? new Date();
    const me = this.scope.clinician;

    return this.scope.writeStatements(async (tx) => {
      const [[patientRow], [courseRow]] = await tx.run(
        this.access.patientStatement(patientId, { lock: true }),
        // Nothing of the course or the history for a caller off the team, judged again once the lock
        // is held: a team change holds the lock too, so this sees one that the wait let through.
        this.courses.currentStatement(
          patientId,
          HISTORY,
          historyParams(input.instrument, administeredAt),
          this.access.onTeamOf(patientId),
        ),
      );
      const patient = this.access.requirePatientOf(patientRow);
      this.access.requireOnTeam(courseRow?.allowed);
      const refusal = happenedAtRefusal('administeredAt', administeredAt, {
        now: new Date(),
        bornOn: patient.date_of_birth as string,
      });
      if (refusal) throw badInput(refusal);
      const { course, extra } = this.courses.currentOfRow(patientId, courseRow, HISTORY);
      const decisions = decideAlerts({
        instrument: input.instrument,
        responses: input.responses,
        total,
        severity,
        previousTotal: (extra.previous as number | null) ?? undefined,
        baselineTotal: (extra.baseline as number | null) ?? undefined,
        alreadyRaised: new Set(extra.raised as AlertKind[]),
      });
      const measureId = newId();
      const alerts = decisions.map((decision) => ({ id: newId(), ...decision }));
      this.scope.audit(
        { action: 'measure.create', patientId, entity: 'Measure', entityId: measureId },
        ...alerts.map((a) => ({
          action: 'alert.create' as const,
          patientId,
          entity: 'ScoreAlert',
          entityId: a.id,
        })),
      );
      const [[measure]] = await tx.finish({
        sql: INSERT_MEASURE,
        params: [
          measureId,
          patientId,
          course.id as string,
          input.instrument,
          JSON.stringify(input.responses),
          total,
          severity,
          administeredAt,
          me.id,
          new Date(),
          JSON.stringify(alerts),
        ],
      });
      return {
        ...measureRow(measure),
        storedAlerts: (measure.stored_alerts as Record<string, unknown>[]).map(alertRow),
      };
    });
  }

  /**
   * Newest first, optionally one instrument: `first`/`after` page back in time, `last`/`before` towards
   * the newest; the patients of a page in one statement.
   */
  async list(
    patient: PatientRow,
    args: { instrument?: Instrument | null } & PageArguments,
    paging: { defaultFirst: number; firstGiven: boolean },
  ): Promise<ConnectionShape<MeasureRow>> {
    const key = pageArgs(args, paging);
    const { page } = key;
    const rows = await this.pages.of(patient.id, key);
    const connection = toConnection(
      rows,
      page,
      (m) => `${m.administeredAt.toISOString()}|${m.id}`,
      () =>
        this.scope.em.count(
          Measure,
          args.instrument ? { patient: patient.id, instrument: args.instrument } : { patient: patient.id },
        ),
    );
    this.auditRead(connection.edges.map((e) => e.node));
    return connection;
  }

  /**
   * The pages of measures `list` would read for each of a page's patients, read with the page;
   * arguments `list` refuses are left to it.
   */
  readListAhead(
    patients: PageIds,
    args: { instrument?: Instrument | null } & PageArguments,
    paging: { defaultFirst: number; firstGiven: boolean },
  ): void {
    let key: PageArgs;
    try {
      key = pageArgs(args, paging);
    } catch {
      return;
    }
    this.pages.ahead(patients, key);
  }

  /** The measure an alert already reached was raised on, if a measure raised it (batched by the dataloader). */
  async ofAlert(alert: AlertRow): Promise<Measure | MeasureRow | null> {
    const measure =
      alert.loadedMeasure ?? (alert.measure ? await reach(this.scope, Measure, alert.measure) : null);
    if (measure) this.auditRead([measure]);
    return measure;
  }

  /** The newest measure of each instrument; the patients of a page in one statement. */
  async latest(patient: PatientRow): Promise<MeasureRow[]> {
    const measures = await this.newest.of(patient.id, null);
    this.auditRead(measures);
    return measures;
  }

  /** The newest measures of a page's patients, read with the page (`PatientRecords.list`). */
  readLatestAhead(page: PageIds): void {
    this.newest.ahead(page, null);
  }

  /**
   * This total minus the baseline's (the first of its instrument in its course), as it stands now;
   * the baselines of a page's measures in one statement.
   */
  async changeFromBaseline(measure: MeasureRow): Promise<number> {
    const baseline = await this.baselines.load(`${measure.course.id}|${measure.instrument}`);
    return changeFromBaseline(
      measure.totalScore,
      baseline && baseline.id !== measure.id ? baseline.total : undefined,
    );
  }

  /** `measureRecorded(patientId)`: measures as they are stored, while the caller stays on the team. */
  async subscribe(patientId: string): Promise<LiveSubscription<MeasureRow>> {
    const id = parseId(patientId, 'patientId');
    // Checked before the subscription starts, so a refusal is an ordinary GraphQL error.
    await this.access.requirePatient(this.scope.em, id);
    return new LiveSubscription(this.scope, this.access, this.live, {
      type: 'measureRecorded',
      patientId: id,
      load: async (em, event) => {
        const [row] = await runStatement(em, 'select * from measure where id = ?', [event.id]);
        return row ? measureRow(row) : null;
      },
      audit: (measure) => [measureRead(measure)],
    });
  }

  /**
   * The `size + 1` measures of each patient at the page's end of the cursors' range (newest first, or
   * oldest first for `last`): a window over all the patients' measures, numbered within each patient.
   */
  private async readPages(
    patientIds: string[] | PageIds,
    { instrument, page }: PageArgs,
  ): Promise<MeasureRow[]> {
    const conditions = ['patient_id = any(?::uuid[])'];
    const params: unknown[] = [patientIds];
    if (instrument) {
      conditions.push('instrument = ?');
      params.push(instrument);
    }
    for (const [argument, comparison] of [
      ['after', '<'],
      ['before', '>'],
    ] as const) {
      const key = page[argument];
      if (key === undefined) continue;
      const [at, id] = key.split('|');
      const time = new Date(at);
      if (Number.isNaN(time.getTime()) || !id || !isId(id))
        throw badInput(`${argument} is not a valid cursor`);
      conditions.push(`(administered_at, id) ${comparison} (?, ?)`);
      params.push(time, id.toLowerCase());
    }
    const order = page.fromEnd ? 'asc' : 'desc';
    const rows = await this.scope.together.read({
      sql: `select * from (
         select measure.*, row_number() over (partition by patient_id order by administered_at ${order}, id ${order}) as page_row
         from measure where ${conditions.join(' and ')}
       ) numbered where page_row <= ? order by patient_id, page_row`,
      params: [...params, page.size + 1],
    });
    return rows.map(measureRow);
  }

  private auditRead(measures: MeasureRow[]) {
    this.scope.audit(...measures.map(measureRead));
  }
}

/**
 * The measure's previous, baseline and once-only alerts within the current course `c` (which
 * starts afresh), as columns of the course's statement (`CourseRecords.currentStatement`).
 */
const EARLIER = 'm.course_id = c.id and m.instrument = ? and m.administered_at <= ?';
const HISTORY = {
  previous: `select m.total_score from measure m where ${EARLIER} order by m.administered_at desc, m.id desc limit 1`,
  baseline: `select m.total_score from measure m where ${EARLIER} order by m.administered_at asc, m.id asc limit 1`,
  raised: `select coalesce(array_agg(a.kind::text), '{}') from score_alert a where a.course_id = c.id and a.instrument = ? and a.kind::text in (${ONCE_PER_COURSE.map(() => '?').join(', ')})`,
};
const historyParams = (instrument: Instrument, administeredAt: Date) => [
  instrument,
  administeredAt,
  instrument,
  administeredAt,
  instrument,
  ...ONCE_PER_COURSE,
];

/**
 * The measure and its alerts (a JSON array of id, kind, level and message) in one statement; the
 * alerts are inserted from the measure's row, so its announcement comes first. Returns the measure's
 * row with the alert rows as stored, oldest first, as `stored_alerts`.
 */
const INSERT_MEASURE = `with measure_row as (
    insert into measure (id, patient_id, course_id, instrument, responses, total_score, severity, administered_at, recorded_by_id, created_at)
    values (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?) returning *
  ), alert_rows as (
    insert into score_alert (id, patient_id, course_id, measure_id, instrument, kind, level, message, created_at)
    select a.id, m.patient_id, m.course_id, m.id, m.instrument, a.kind, a.level, a.message, m.created_at
    from measure_row m cross join json_to_recordset(?::json) as a(id uuid, kind text, level text, message text)
    returning *
  )
  select m.*, (select coalesce(json_agg(a order by a.id), '[]'::json) from alert_rows a) as stored_alerts
  from measure_row m`;

const measureRead = (measure: MeasureRow): AuditEntry => ({
  action: READ_ACTION.Measure,
  patientId: measure.patient.id,
  entity: 'Measure',
  entityId: measure.id,
});
