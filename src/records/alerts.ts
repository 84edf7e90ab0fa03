import type { FilterQuery } from '@mikro-orm/postgresql';
import { READ_ACTION } from '../domain/audit';
import type { CareTeamAccess } from '../auth/access';
import DataLoader from 'dataloader';
import { Clinician, ScoreAlert } from '../entities';
import { runStatement } from '../db/prepared';
import { notFound } from '../errors';
import { parseId } from '../ids';
import { pageRequest, toConnection, type ConnectionShape } from './paging';
import { LiveSubscription, type LiveSources } from './liveSubscription';
import { PerPatient } from './perPatient';
import {
  alertRow,
  measureRow,
  type AlertRow,
  type MeasureRow,
  type PatientRow,
  type WrittenMeasureRow,
} from './rows';
import type { AuditEntry, RequestScope } from './scope';
import type { PageIds } from './together';

/** Score alerts of the caller's patients. */
export class AlertRecords {
  private readonly ofPatients = new PerPatient(
    async (ids: string[] | PageIds, unacknowledgedOnly: boolean) =>
      (
        await this.scope.together.read({
          sql: `select * from score_alert where patient_id = any(?::uuid[])${unacknowledgedOnly ? ' and acknowledged_at is null' : ''}
            order by id desc`,
          params: [ids],
        })
      ).map(alertRow),
    (alert) => alert.patient.id,
  );

  /** The alerts each measure raised, oldest first; the measures of a page in one statement. */
  private readonly ofMeasures = new DataLoader<string, AlertRow[]>(
    async (ids) => {
      const rows = (
        await this.scope.together.read({
          sql: 'select * from score_alert where measure_id = any(?::uuid[]) order by id',
          params: [[...new Set(ids)]],
        })
      ).map(alertRow);
      return ids.map((id) => rows.filter((alert) => alert.measure?.id === id));
    },
    { cache: false },
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly live: LiveSources,
  ) {}

  /** Across all the caller's patients (or one), newest first. */
  async list(args: {
    patientId?: string | null;
    unacknowledgedOnly: boolean;
    first: number;
    after?: string | null;
  }): Promise<ConnectionShape<ScoreAlert>> {
    const page = pageRequest(
      { first: args.first, after: args.after ?? null },
      { defaultFirst: args.first, firstGiven: true },
    );
    const where: FilterQuery<ScoreAlert>[] = [];
    if (args.patientId) {
      const id = parseId(args.patientId, 'patientId');
      await this.access.requirePatient(this.scope.em, id);
      where.push({ patient: id });
    } else {
      where.push({ patient: this.access.myPatients() });
    }
    if (args.unacknowledgedOnly) where.push({ acknowledgedAt: null });
    const filter = [...where];
    if (page.after !== undefined) where.push({ id: { $lt: parseId(page.after, 'after') } });
    const rows = await this.scope.em.find(
      ScoreAlert,
      { $and: where },
      { orderBy: { id: 'desc' }, limit: page.size + 1 },
    );
    const connection = toConnection(
      rows,
      page,
      (a) => a.id,
      () => this.scope.em.count(ScoreAlert, { $and: filter }),
    );
    this.auditRead(connection.edges.map((e) => e.node));
    return connection;
  }

  /** Newest first; the patients of a page in one statement. */
  async forPatient(patient: PatientRow, unacknowledgedOnly: boolean): Promise<AlertRow[]> {
    const alerts = await this.ofPatients.of(patient.id, unacknowledgedOnly);
    this.auditRead(alerts);
    return alerts;
  }

  /** The alerts `forPatient` would read for each of a page's patients, read with the page. */
  readAhead(patients: PageIds, unacknowledgedOnly: boolean): void {
    this.ofPatients.ahead(patients, unacknowledgedOnly);
  }

  /** The alerts a measure raised, oldest first: those its own write stored, when it was written here. */
  async forMeasure(measure: MeasureRow | WrittenMeasureRow): Promise<readonly AlertRow[]> {
    const alerts = 'storedAlerts' in measure ? measure.storedAlerts : await this.ofMeasures.load(measure.id);
    this.auditRead(alerts);
    return alerts;
  }

  /** Records who acknowledged and when; acknowledging again keeps the first, and is audited as a read. */
  async acknowledge(id: string): Promise<ScoreAlert> {
    this.access.requireRole('acknowledgeAlerts');
    const alertId = parseId(id, 'id');
    return this.scope.write(async (em) => {
      const alert = await em.findOne(ScoreAlert, { id: alertId });
      if (!alert) throw notFound('No alert with that id');
      await this.access.requirePatient(em, alert.patient.id);
      if (!alert.acknowledgedAt) {
        alert.acknowledgedAt = new Date();
        alert.acknowledgedBy = em.getReference(Clinician, this.scope.clinician.id, { wrapped: true });
        this.scope.audit({
          action: 'alert.acknowledge',
          patientId: alert.patient.id,
          entity: 'ScoreAlert',
          entityId: alert.id,
        });
      } else {
        // The caller still gets the alert and its message back.
        this.auditRead([alert]);
      }
      return alert;
    });
  }

  /**
   * `scoreAlert(patientId)`: alerts as they are committed, for one patient or every patient on the
   * caller's care teams; membership is checked at each delivery, so leaving a team stops them.
   */
  async subscribe(patientId?: string | null): Promise<LiveSubscription<AlertRow>> {
    const only = patientId ? parseId(patientId, 'patientId') : undefined;
    // Checked before the subscription starts, so a refusal is an ordinary GraphQL error.
    if (only) await this.access.requirePatient(this.scope.em, only);
    return new LiveSubscription<AlertRow>(this.scope, this.access, this.live, {
      type: 'scoreAlert',
      patientId: only,
      load: async (em, event) => {
        // With its measure, which alert payloads show: no second statement while executing. A plain
        // row, not an entity: building the entities was most of an alert's load (BENCHMARKS.md, issue 19).
        const [row] = await runStatement(em, LIVE_ALERT, [event.id]);
        return row
          ? { ...alertRow(row), loadedMeasure: row.measure ? measureRow(row.measure as never) : undefined }
          : null;
      },
      audit: (alert) => [alertRead(alert)],
    });
  }

  private auditRead(alerts: readonly AlertRow[]) {
    this.scope.audit(...alerts.map(alertRead));
  }
}

const LIVE_ALERT = `select a.*, to_json(m) as measure from score_alert a
  left join measure m on m.id = a.measure_id where a.id = ?`;

const alertRead = (alert: AlertRow): AuditEntry => ({
  action: READ_ACTION.ScoreAlert,
  patientId: alert.patient.id,
  entity: 'ScoreAlert',
  entityId: alert.id,
});
