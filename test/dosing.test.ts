import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AcknowledgeAlertDocument,
  AlertsWithSourcesDocument,
  CompleteDosingSessionDocument,
  CreatePatientDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
  PrescribeDocument,
  RecordConsentDocument,
  RecordEligibilityAssessmentDocument,
  ScheduleSessionDocument,
  VitalSignsAlertsDocument,
  type CompleteDosingSessionInput,
  type Route,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { dosingInput } from './support/dosing';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { collect, eventually } from './support/subscription';
import { DAY, daysAgo, fromNow, HOUR, MINUTE } from './support/time';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let prescriberId: string;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
  prescriberId = (await prescriber.http.request(MeDocument)).me.id;
});
afterAll(() => server.close());

/** A patient ready to dose, with a plan and a prescription, on the team of prescriber and therapist. */
async function readyPatient(options: { route?: Route; quantity?: number; refills?: number } = {}) {
  const route = options.route ?? 'IM';
  const esketamine = route === 'INTRANASAL_ESKETAMINE';
  const patientId = await patientWithTeam(prescriber, therapist, {
    firstName: 'Dee',
    lastName: 'Dose',
    dateOfBirth: '1988-08-08',
  });
  await prescriber.http.request(RecordEligibilityAssessmentDocument, {
    input: {
      patientId,
      contraindications: [],
      cautions: [],
      baselineBloodPressure: { systolic: 126, diastolic: 80 },
      decision: 'ELIGIBLE',
    },
  });
  await therapist.http.request(RecordConsentDocument, {
    input: {
      patientId,
      textVersion: 'v4',
      consentedOn: daysAgo(20),
      acknowledgesRisks: true,
      acknowledgesOffLabelUse: true,
      acknowledgesIntegration: true,
    },
  });
  const planId = (
    await prescriber.http.request(CreateTreatmentPlanDocument, {
      input: { patientId, protocol: 'SEPARATE_DAY', route, plannedDosingSessions: 6 },
    })
  ).createTreatmentPlan.id;
  const { prescribe } = await prescriber.http.request(PrescribeDocument, {
    input: {
      patientId,
      medication: esketamine ? 'ESKETAMINE' : 'KETAMINE',
      route,
      doseMg: esketamine ? 84 : 40,
      quantity: options.quantity ?? 12,
      refills: options.refills ?? 0,
    },
  });
  return { patientId, planId, prescriptionId: prescribe.id, esketamine };
}

/** Schedules a dosing session `daysBack` days ago and records its dose, given an hour after that. */
async function dose(
  p: Awaited<ReturnType<typeof readyPatient>>,
  daysBack: number,
  change: Partial<CompleteDosingSessionInput> = {},
) {
  const scheduled = fromNow(-daysBack * DAY - 3 * HOUR);
  const { scheduleSession } = await prescriber.http.request(ScheduleSessionDocument, {
    input: { planId: p.planId, kind: 'DOSING', scheduledAt: scheduled.toISOString() },
  });
  const given = new Date(scheduled.getTime() + HOUR);
  const input = dosingInput(scheduleSession.id, p.prescriptionId, {
    doseMg: p.esketamine ? 56 : 40,
    administeredAt: given.toISOString(),
    dischargedAt: new Date(given.getTime() + 2 * HOUR).toISOString(),
    ...change,
  });
  return {
    sessionId: scheduleSession.id,
    call: prescriber.http.request(CompleteDosingSessionDocument, { input }),
  };
}

describe('dose limits at the moment of dosing', () => {
  it('count administrations against quantity × (refills + 1)', async () => {
    const p = await readyPatient({ quantity: 1, refills: 1 });
    await (
      await dose(p, 4)
    ).call;
    await (
      await dose(p, 2)
    ).call;
    const third = await dose(p, 0);
    expect(await expectCode(third.call, 'CONFLICT')).toContain('used up: 2 of 2');
  });

  it('refuse a prescription written more than six months before the dose', async () => {
    const p = await readyPatient();
    // The API writes prescriptions now; an old one is put in place as it would have been written then.
    const old = randomUUID();
    await server.sql(
      `insert into prescription (id, patient_id, course_id, medication, route, dose_mg, quantity, refills, prescribed_by_id, prescribed_at)
       select $1, patient_id, course_id, medication, route, dose_mg, quantity, refills, prescribed_by_id, $2 from prescription where id = $3`,
      [old, fromNow(-200 * DAY), p.prescriptionId],
    );
    const expired = await dose({ ...p, prescriptionId: old }, 0);
    expect(await expectCode(expired.call, 'CONFLICT')).toContain('more than 6 months');
    await (
      await dose(p, 0)
    ).call;
  });

  it('need an override reason for two doses under 24 hours apart, and keep it', async () => {
    const p = await readyPatient();
    await (
      await dose(p, 0)
    ).call;
    const soon = await dose(p, 0.5);
    expect(await expectCode(soon.call, 'CONFLICT')).toContain('less than 24');
    const sessionId = soon.sessionId;
    const input = (change: Partial<CompleteDosingSessionInput>) =>
      dosingInput(sessionId, p.prescriptionId, {
        administeredAt: fromNow(-12 * HOUR - 2 * HOUR).toISOString(),
        dischargedAt: fromNow(-12 * HOUR).toISOString(),
        ...change,
      });
    await expectCode(
      prescriber.http.request(CompleteDosingSessionDocument, {
        input: input({ doseSpacingOverrideReason: ' ' }),
      }),
      'BAD_USER_INPUT',
    );
    const { completeDosingSession } = await prescriber.http.request(CompleteDosingSessionDocument, {
      input: input({ doseSpacingOverrideReason: 'first dose vomited within minutes; repeated per protocol' }),
    });
    expect(completeDosingSession.doseSpacingOverrideReason).toContain('vomited');
  });

  it('need an override reason for a third esketamine dose within seven days', async () => {
    const p = await readyPatient({ route: 'INTRANASAL_ESKETAMINE' });
    await (
      await dose(p, 6)
    ).call;
    await (
      await dose(p, 3)
    ).call;
    const third = await dose(p, 0);
    expect(await expectCode(third.call, 'CONFLICT')).toContain('more than 2 esketamine doses within 7 days');
    // Twice weekly, a week on from the first: fine.
    const q = await readyPatient({ route: 'INTRANASAL_ESKETAMINE' });
    await (
      await dose(q, 7)
    ).call;
    await (
      await dose(q, 3.5)
    ).call;
    await (
      await dose(q, 0)
    ).call;
  });

  it('hold racemic ketamine to the clinic’s minimum monitoring (KETAMINE_MIN_MONITORING_MIN)', async () => {
    const strict = await startTestServer({ dosing: { ketamineMinMonitoringMinutes: 90 } });
    try {
      const doctor = await strict.clinician(Role.PRESCRIBER);
      const { createPatient } = await doctor.http.request(CreatePatientDocument, {
        input: { firstName: 'Mo', lastName: 'Nitor', dateOfBirth: '1990-09-09' },
      });
      const patientId = createPatient.id;
      await doctor.http.request(RecordEligibilityAssessmentDocument, {
        input: {
          patientId,
          contraindications: [],
          cautions: [],
          baselineBloodPressure: { systolic: 126, diastolic: 80 },
          decision: 'ELIGIBLE',
        },
      });
      await doctor.http.request(RecordConsentDocument, {
        input: {
          patientId,
          textVersion: 'v4',
          consentedOn: daysAgo(2),
          acknowledgesRisks: true,
          acknowledgesOffLabelUse: true,
          acknowledgesIntegration: true,
        },
      });
      const planId = (
        await doctor.http.request(CreateTreatmentPlanDocument, {
          input: { patientId, protocol: 'CONCURRENT', route: 'IM', plannedDosingSessions: 6 },
        })
      ).createTreatmentPlan.id;
      const prescriptionId = (
        await doctor.http.request(PrescribeDocument, {
          input: { patientId, medication: 'KETAMINE', route: 'IM', doseMg: 40, quantity: 6 },
        })
      ).prescribe.id;
      const sessionId = (
        await doctor.http.request(ScheduleSessionDocument, {
          input: { planId, kind: 'DOSING', scheduledAt: fromNow(-3 * HOUR).toISOString() },
        })
      ).scheduleSession.id;
      const given = fromNow(-2 * HOUR);
      const after = (minutes: number) => ({
        administeredAt: given.toISOString(),
        dischargedAt: new Date(given.getTime() + minutes * MINUTE).toISOString(),
      });
      expect(
        await expectCode(
          doctor.http.request(CompleteDosingSessionDocument, {
            input: dosingInput(sessionId, prescriptionId, after(89)),
          }),
          'BAD_USER_INPUT',
        ),
      ).toContain('at least 90 minutes');
      const { completeDosingSession } = await doctor.http.request(CompleteDosingSessionDocument, {
        input: dosingInput(sessionId, prescriptionId, after(90)),
      });
      expect(completeDosingSession.minutesMonitored).toBe(90);
    } finally {
      await strict.close();
    }
  });

  it('count the integration window from when the dose was given, not when it was recorded', async () => {
    const p = await readyPatient();
    const { sessionId, call } = await dose(p, 3);
    const given = new Date((await call).completeDosingSession.administeredAt!);
    const integrate = (at: Date) =>
      therapist.http.request(ScheduleSessionDocument, {
        input: {
          planId: p.planId,
          kind: 'INTEGRATION',
          scheduledAt: at.toISOString(),
          dosingSessionId: sessionId,
        },
      });
    expect(
      (await integrate(new Date(given.getTime() + 30 * HOUR))).scheduleSession.integrationOutsideWindow,
    ).toBe(false);
    // A day after the record was typed (now) is three days after the dose.
    expect((await integrate(fromNow(DAY))).scheduleSession.integrationOutsideWindow).toBe(true);
  });
});

describe('the VITAL_SIGNS alert', () => {
  it('is raised with the dose when a post-dose or discharge reading is out of range, and delivered, listed and acknowledged like a score alert', async () => {
    const p = await readyPatient();
    const base = server.app.liveSubscriptions();
    const live = collect(server.ws(therapist.token), VitalSignsAlertsDocument, { patientId: p.patientId });
    const everyPatient = collect(server.ws(prescriber.token), VitalSignsAlertsDocument, {});
    await eventually(() => server.app.liveSubscriptions() === base + 2);

    // A normal dose raises nothing; 200/115 after the dose raises one CRITICAL alert.
    await (
      await dose(p, 4)
    ).call;
    const high = await dose(p, 2, { vitalSignsAfter: { systolic: 200, diastolic: 115 } });
    await high.call;
    const [first] = await live.until(1);
    expect(first.scoreAlert).toMatchObject({
      kind: 'VITAL_SIGNS',
      level: 'CRITICAL',
      measure: null,
      session: { id: high.sessionId, doseMg: 40 },
      course: { number: 1 },
    });
    expect(first.scoreAlert.message).toContain('200/115 after the dose');
    await everyPatient.until(1);

    // An oxygen saturation of 88 % at discharge raises another.
    const low = await dose(p, 0, {
      vitalSignsAtDischarge: { systolic: 130, diastolic: 80, oxygenSaturation: 88 },
    });
    await low.call;
    const both = await live.until(2);
    expect(both[1].scoreAlert.message).toContain('oxygen saturation 88 % at discharge');
    expect(live.received).toHaveLength(2);
    expect(live.errors).toEqual([]);

    const { alerts } = await therapist.http.request(AlertsWithSourcesDocument, { patientId: p.patientId });
    expect(alerts.edges.map((e) => [e.node.kind, e.node.session?.id, e.node.measure])).toEqual([
      ['VITAL_SIGNS', low.sessionId, null],
      ['VITAL_SIGNS', high.sessionId, null],
    ]);
    const { acknowledgeAlert } = await therapist.http.request(AcknowledgeAlertDocument, {
      id: first.scoreAlert.id,
    });
    expect(acknowledgeAlert.acknowledgedAt).not.toBeNull();
    const open = await therapist.http.request(AlertsWithSourcesDocument, {
      patientId: p.patientId,
      unacknowledgedOnly: true,
    });
    expect(open.alerts.edges.map((e) => e.node.session?.id)).toEqual([low.sessionId]);

    const stored = await server.sql<{ action: string }>(
      "select action from audit_event where patient_id = $1 and action = 'alert.create'",
      [p.patientId],
    );
    expect(stored).toHaveLength(2);
    live.stop();
    everyPatient.stop();
  });

  it('is not raised by a dose that is refused', async () => {
    const p = await readyPatient();
    const refused = await dose(p, 0, {
      vitalSignsAfter: { systolic: 200, diastolic: 115 },
      fitToLeave: false,
    });
    await expectCode(refused.call, 'BAD_USER_INPUT');
    const { alerts } = await prescriber.http.request(AlertsWithSourcesDocument, {
      patientId: p.patientId,
      unacknowledgedOnly: false,
    });
    expect(alerts.edges).toEqual([]);
  });
});

describe('the dose record', () => {
  it('says who gave it and when, and is readable by the care team with the read audited', async () => {
    const p = await readyPatient();
    const { sessionId, call } = await dose(p, 1);
    const given = (await call).completeDosingSession;
    expect(given.administeredBy?.id).toBe(prescriberId);
    const read = await therapist.http.request(
      `query($id: ID!) { patient(id: $id) { sessions { id administeredAt administeredBy { id } doseMg lotNumber route prescription { id } systolicAtDischarge dischargedAt fitToLeaveAttested } } }`,
      { id: p.patientId },
    );
    expect(read).toMatchObject({
      patient: {
        sessions: [
          {
            id: sessionId,
            administeredBy: { id: prescriberId },
            doseMg: 40,
            lotNumber: 'KX-2291',
            route: 'IM',
            prescription: { id: p.prescriptionId },
            fitToLeaveAttested: true,
          },
        ],
      },
    });
    const audit = await server.sql<{ n: number }>(
      "select count(*)::int as n from audit_event where entity_id = $1 and action = 'session.read'",
      [sessionId],
    );
    expect(audit[0].n).toBeGreaterThan(0);
  });
});
