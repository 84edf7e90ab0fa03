import { randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ormConfig } from '../src/db/orm';
import { Role } from '../src/domain/roles';
import { PatientCoursesDocument } from './generated/graphql';
import { createTestDatabase, startTestServer, type TestServer } from './support/server';
import { DAY, fromNow } from './support/time';

/**
 * A database in the shape before courses existed, holding a patient in treatment and a discharged
 * one, brought up to date: everything lands in each patient's course 1.
 */
let databaseUrl: string;
let db: pg.Client;
const ids = {
  clinician: randomUUID(),
  active: randomUUID(),
  discharged: randomUUID(),
  assessment: randomUUID(),
  consent: randomUUID(),
  prescription: randomUUID(),
  plan: randomUUID(),
  session: randomUUID(),
  measure: randomUUID(),
  alert: randomUUID(),
};
const registered = fromNow(-30 * DAY);
const dischargedAt = fromNow(-2 * DAY);

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  const orm = await MikroORM.init(ormConfig(databaseUrl));
  await orm.getMigrator().up({ to: 'Migration20261201174500_collab_tickets' });
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const at = (days: number) => new Date(registered.getTime() + days * DAY);
  await db.query(
    `insert into clinician (id, sub, email, name, role, created_at, updated_at) values ($1, 'migrated-prescriber', 'migrated@clinic.example', 'Dr Migrated', 'PRESCRIBER', $2, $2)`,
    [ids.clinician, registered],
  );
  await db.query(
    `insert into patient (id, first_name, last_name, date_of_birth, status, created_by_id, created_at, updated_at) values
       ($1, 'Old', 'Active', '1970-01-01', 'ACTIVE', $3, $4, $4), ($2, 'Old', 'Discharged', '1971-01-01', 'DISCHARGED', $3, $4, $5)`,
    [ids.active, ids.discharged, ids.clinician, registered, dischargedAt],
  );
  await db.query(
    `insert into care_team_member (id, patient_id, clinician_id, role, added_at) values ($1, $2, $4, 'PRESCRIBER', $5), ($3, $6, $4, 'PRESCRIBER', $5)`,
    [randomUUID(), ids.active, randomUUID(), ids.clinician, registered, ids.discharged],
  );
  await db.query(
    `insert into eligibility_assessment (id, patient_id, contraindications, cautions, baseline_systolic, baseline_diastolic, decision, assessed_by_id, assessed_at)
     values ($1, $2, '{}', '{}', 130, 80, 'ELIGIBLE', $3, $4)`,
    [ids.assessment, ids.active, ids.clinician, at(1)],
  );
  await db.query(
    `insert into consent (id, patient_id, text_version, consented_on, acknowledges_risks, acknowledges_off_label_use, acknowledges_integration, recorded_by_id, recorded_at)
     values ($1, $2, 'v1', $3, true, true, true, $4, $5)`,
    [ids.consent, ids.active, at(1).toISOString().slice(0, 10), ids.clinician, at(1)],
  );
  await db.query(
    `insert into prescription (id, patient_id, medication, route, dose_mg, quantity, refills, prescribed_by_id, prescribed_at) values ($1, $2, 'KETAMINE', 'IM', 40, 6, 0, $3, $4)`,
    [ids.prescription, ids.active, ids.clinician, at(2)],
  );
  await db.query(
    `insert into treatment_plan (id, patient_id, status, protocol, route, planned_dosing_sessions, created_by_id, created_at, updated_at) values ($1, $2, 'ACTIVE', 'SEPARATE_DAY', 'IM', 6, $3, $4, $4)`,
    [ids.plan, ids.active, ids.clinician, at(2)],
  );
  await db.query(
    `insert into treatment_session (id, patient_id, plan_id, kind, scheduled_at, scheduled_by_id, completed_at, completed_by_id, prescription_id, route, dose_mg, lot_number,
       systolic_before, diastolic_before, minutes_monitored, adverse_events, created_at)
     values ($1, $2, $3, 'DOSING', $4, $5, $6, $5, $7, 'IM', 40, 'LOT-1', 130, 80, 90, '{}', $4)`,
    [ids.session, ids.active, ids.plan, at(3), ids.clinician, at(3.1), ids.prescription],
  );
  await db.query(
    `insert into measure (id, patient_id, instrument, responses, total_score, severity, administered_at, recorded_by_id, created_at) values ($1, $2, 'PHQ9', '[3,3,3,3,3,3,2,0,0]', 20, 'SEVERE', $3, $4, $3)`,
    [ids.measure, ids.active, at(1), ids.clinician],
  );
  await db.query(
    `insert into score_alert (id, patient_id, measure_id, instrument, kind, level, message, created_at) values ($1, $2, $3, 'PHQ9', 'SEVERE_SYMPTOMS', 'WARNING', 'severe', $4)`,
    [ids.alert, ids.active, ids.measure, at(1)],
  );
  await orm.getMigrator().up();
  await orm.close();
});
afterAll(async () => {
  await db?.end();
});

describe('the courses migration', () => {
  it('puts every existing record in course 1, open for a patient in treatment, closed for a discharged one', async () => {
    const courses = (await db.query('select * from treatment_course order by patient_id')).rows;
    expect(courses).toHaveLength(2);
    const active = courses.find((c) => c.patient_id === ids.active);
    const discharged = courses.find((c) => c.patient_id === ids.discharged);
    expect(active).toMatchObject({ number: 1, closed_at: null, discharge_reason: null });
    expect(new Date(active.opened_at).getTime()).toBe(registered.getTime());
    expect(discharged).toMatchObject({ number: 1 });
    expect(new Date(discharged.closed_at).getTime()).toBe(dischargedAt.getTime());
    expect(discharged.discharge_reason).toContain('before courses');
    for (const table of [
      'eligibility_assessment',
      'consent',
      'prescription',
      'treatment_plan',
      'treatment_session',
      'measure',
      'score_alert',
    ]) {
      const rows = (await db.query(`select course_id from ${table}`)).rows;
      expect(rows, table).toEqual([{ course_id: active.id }]);
    }
    // The Schedule III records are still kept as they are.
    await expect(
      db.query('update prescription set dose_mg = 80 where id = $1', [ids.prescription]),
    ).rejects.toThrow(/never deleted or edited/);
    await expect(
      db.query('update treatment_session set lot_number = $2 where id = $1', [ids.session, 'X']),
    ).rejects.toThrow(/never deleted or edited/);
  });

  it('serves the migrated record through the API', async () => {
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ databaseUrl });
      const prescriber = await server.clinician(Role.PRESCRIBER, {
        sub: 'migrated-prescriber',
        email: 'migrated@clinic.example',
        name: 'Dr Migrated',
      });
      const { patient } = await prescriber.http.request(PatientCoursesDocument, { id: ids.active });
      expect(patient?.currentCourse).toMatchObject({ number: 1, status: 'ACTIVE', closedAt: null });
      expect(patient?.prescriptions.map((p) => p.course.number)).toEqual([1]);
      expect(patient?.measures.edges.map((e) => e.node.changeFromBaseline)).toEqual([0]);
      const old = (await prescriber.http.request(PatientCoursesDocument, { id: ids.discharged })).patient;
      expect(old?.courses.map((c) => c.status)).toEqual(['DISCHARGED']);
    } finally {
      await server?.close();
    }
  });
});
