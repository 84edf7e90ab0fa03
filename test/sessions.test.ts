import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  CompleteDosingSessionDocument,
  CompleteSessionDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
  PatientSessionsDocument,
  PrescribeDocument,
  PsychotherapyNoteDocument,
  RecordConsentDocument,
  RecordEligibilityAssessmentDocument,
  ScheduleSessionDocument,
  VoidPrescriptionDocument,
  WritePsychotherapyNoteDocument,
  type CompleteDosingSessionInput,
  type Protocol,
  type Route,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { dosingInput } from './support/dosing';
import { DAY, daysAgo, fromNow, HOUR, MINUTE } from './support/time';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let colleague: TestClinician;
let outsider: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  colleague = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.THERAPIST);
  for (const c of [therapist, colleague]) await c.http.request(MeDocument);
});
afterAll(() => server.close());

/** A patient on the team of prescriber, therapist and colleague, with a plan; ready to dose unless told. */
async function patientWithPlan(options: { protocol?: Protocol; route?: Route; ready?: boolean } = {}) {
  const patientId = await patientWithTeam(prescriber, [therapist, colleague], {
    firstName: 'Jo',
    lastName: 'Session',
    dateOfBirth: '1982-02-02',
  });
  const route = options.route ?? 'IM';
  const { createTreatmentPlan } = await prescriber.http.request(CreateTreatmentPlanDocument, {
    input: { patientId, protocol: options.protocol ?? 'SEPARATE_DAY', route, plannedDosingSessions: 6 },
  });
  let prescriptionId = '';
  if (options.ready ?? true) {
    await prescriber.http.request(RecordEligibilityAssessmentDocument, {
      input: {
        patientId,
        contraindications: [],
        cautions: [],
        baselineBloodPressure: { systolic: 128, diastolic: 82 },
        decision: 'ELIGIBLE',
      },
    });
    await therapist.http.request(RecordConsentDocument, {
      input: {
        patientId,
        textVersion: 'v3',
        consentedOn: daysAgo(30),
        acknowledgesRisks: true,
        acknowledgesOffLabelUse: true,
        acknowledgesIntegration: true,
      },
    });
    const esketamine = route === 'INTRANASAL_ESKETAMINE';
    const { prescribe } = await prescriber.http.request(PrescribeDocument, {
      input: {
        patientId,
        medication: esketamine ? 'ESKETAMINE' : 'KETAMINE',
        route,
        doseMg: esketamine ? 84 : 40,
        quantity: 6,
      },
    });
    prescriptionId = prescribe.id;
  }
  return { patientId, planId: createTreatmentPlan.id, prescriptionId };
}

const schedule = (
  by: TestClinician,
  planId: string,
  kind: 'PREPARATION' | 'DOSING' | 'INTEGRATION' | 'FOLLOW_UP',
  at: Date,
  dosingSessionId?: string,
) =>
  by.http.request(ScheduleSessionDocument, {
    input: { planId, kind, scheduledAt: at.toISOString(), dosingSessionId },
  });

describe('dosing sessions', () => {
  it('cannot be scheduled before an ELIGIBLE assessment and a consent', async () => {
    const { planId } = await patientWithPlan({ ready: false });
    const message = await expectCode(
      schedule(therapist, planId, 'DOSING', new Date(Date.now() + DAY)),
      'CONFLICT',
    );
    expect(message).toContain('ELIGIBLE');
    expect(message).toContain('informed consent');
    await schedule(therapist, planId, 'PREPARATION', new Date(Date.now() + DAY));
    await expectCode(schedule(outsider, planId, 'PREPARATION', new Date()), 'FORBIDDEN');
  });

  it('are completed by the prescriber within the active prescription, and then kept as they are', async () => {
    const { planId, prescriptionId } = await patientWithPlan();
    const { scheduleSession } = await schedule(therapist, planId, 'DOSING', fromNow(-2 * HOUR));
    const id = scheduleSession.id;
    const complete = (change: Partial<CompleteDosingSessionInput> = {}) =>
      prescriber.http.request(CompleteDosingSessionDocument, {
        input: dosingInput(id, prescriptionId, change),
      });
    await expectCode(
      therapist.http.request(CompleteDosingSessionDocument, { input: dosingInput(id, prescriptionId) }),
      'FORBIDDEN',
    );
    await expectCode(
      outsider.http.request(CompleteDosingSessionDocument, { input: dosingInput(id, prescriptionId) }),
      'FORBIDDEN',
    );
    expect(await expectCode(complete({ doseMg: 45 }), 'BAD_USER_INPUT')).toContain('prescribed 40');
    await expectCode(complete({ lotNumber: ' ' }), 'BAD_USER_INPUT');
    await expectCode(complete({ vitalSignsBefore: { systolic: 80, diastolic: 90 } }), 'BAD_USER_INPUT');
    expect(
      await expectCode(
        complete({
          administeredAt: fromNow(10 * MINUTE).toISOString(),
          dischargedAt: fromNow(-MINUTE).toISOString(),
        }),
        'BAD_USER_INPUT',
      ),
    ).toContain('future');
    expect(
      await expectCode(complete({ administeredAt: fromNow(-3 * HOUR).toISOString() }), 'BAD_USER_INPUT'),
    ).toContain('before the session was scheduled');
    expect(await expectCode(complete({ fitToLeave: false }), 'BAD_USER_INPUT')).toContain('fit to leave');
    // 0 minutes, then 59: racemic ketamine is monitored at least 60 minutes (the clinic's default).
    expect(
      await expectCode(complete({ dischargedAt: fromNow(-89 * MINUTE).toISOString() }), 'BAD_USER_INPUT'),
    ).toContain('at least 60 minutes');
    expect(
      await expectCode(complete({ administeredAt: fromNow(-69 * MINUTE).toISOString() }), 'BAD_USER_INPUT'),
    ).toContain('at least 60 minutes');

    const high = { vitalSignsBefore: { systolic: 186, diastolic: 98 } };
    expect(await expectCode(complete(high), 'BAD_USER_INPUT')).toContain('hold the dose');
    const given = fromNow(-100 * MINUTE);
    const { completeDosingSession } = await complete({
      ...high,
      administeredAt: given.toISOString(),
      bloodPressureOverrideReason: 'white-coat hypertension documented; repeat 178/96',
      adverseEvents: ['DISSOCIATION', 'NAUSEA'],
    });
    expect(completeDosingSession).toMatchObject({
      route: 'IM',
      doseMg: 40,
      lotNumber: 'KX-2291',
      systolicBefore: 186,
      heartRateBefore: null,
      oxygenSaturationAfter: 97,
      systolicAtDischarge: 134,
      minutesMonitored: 90,
      fitToLeaveAttested: true,
      adverseEvents: ['DISSOCIATION', 'NAUSEA'],
      prescription: { id: prescriptionId },
      administeredBy: { id: (await prescriber.http.request(MeDocument)).me.id },
    });
    expect(new Date(completeDosingSession.administeredAt!).getTime()).toBe(given.getTime());
    expect(completeDosingSession.bloodPressureOverrideReason).toContain('white-coat');

    await expectCode(complete(), 'CONFLICT');
    const audit = await server.sql<{ action: string }>(
      "select action from audit_event where entity_id = $1 and action <> 'session.read' order by id",
      [id],
    );
    expect(audit.map((r) => r.action)).toEqual(['session.create', 'dose.administer']);
    await expect(server.sql('update treatment_session set dose_mg = 80 where id = $1', [id])).rejects.toThrow(
      /never deleted or edited/,
    );
    await expect(server.sql('delete from treatment_session where id = $1', [id])).rejects.toThrow(
      /never deleted or edited/,
    );
  });

  it('refuse a void prescription, and intranasal esketamine off the 28 mg steps or with under 120 minutes of monitoring', async () => {
    const ketamine = await patientWithPlan();
    await prescriber.http.request(VoidPrescriptionDocument, {
      id: ketamine.prescriptionId,
      reason: 'patient moved clinic',
    });
    const first = (await schedule(prescriber, ketamine.planId, 'DOSING', fromNow(-2 * HOUR))).scheduleSession
      .id;
    expect(
      await expectCode(
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(first, ketamine.prescriptionId),
        }),
        'CONFLICT',
      ),
    ).toContain('void');

    const spray = await patientWithPlan({ route: 'INTRANASAL_ESKETAMINE' });
    const session = (await schedule(prescriber, spray.planId, 'DOSING', fromNow(-3 * HOUR))).scheduleSession
      .id;
    const given = fromNow(-150 * MINUTE);
    const esketamine = (change: Partial<CompleteDosingSessionInput>) =>
      prescriber.http.request(CompleteDosingSessionDocument, {
        input: dosingInput(session, spray.prescriptionId, {
          doseMg: 56,
          administeredAt: given.toISOString(),
          ...change,
        }),
      });
    expect(await expectCode(esketamine({ doseMg: 30 }), 'BAD_USER_INPUT')).toContain('28, 56, 84');
    expect(
      await expectCode(
        esketamine({ dischargedAt: new Date(given.getTime() + 119 * MINUTE).toISOString() }),
        'BAD_USER_INPUT',
      ),
    ).toContain('120 minutes');
    const { completeDosingSession } = await esketamine({
      dischargedAt: new Date(given.getTime() + 120 * MINUTE).toISOString(),
    });
    expect(completeDosingSession).toMatchObject({ route: 'INTRANASAL_ESKETAMINE', minutesMonitored: 120 });
  });
});

describe('therapy sessions', () => {
  it('are completed by the therapist (follow-up by either), and integration outside one to two days is flagged under SEPARATE_DAY', async () => {
    const { patientId, planId } = await patientWithPlan();
    // A week ahead: the preparation scheduled for now must come first whatever today's date is.
    const dosingAt = fromNow(7 * DAY);
    const dosing = (await schedule(prescriber, planId, 'DOSING', dosingAt)).scheduleSession.id;
    const onTime = (
      await schedule(therapist, planId, 'INTEGRATION', new Date(dosingAt.getTime() + 1.5 * DAY), dosing)
    ).scheduleSession;
    const late = (
      await schedule(therapist, planId, 'INTEGRATION', new Date(dosingAt.getTime() + 3 * DAY), dosing)
    ).scheduleSession;
    expect([onTime.integrationOutsideWindow, late.integrationOutsideWindow]).toEqual([false, true]);
    await expectCode(schedule(therapist, planId, 'PREPARATION', dosingAt, dosing), 'BAD_USER_INPUT');

    const preparation = (await schedule(therapist, planId, 'PREPARATION', new Date())).scheduleSession.id;
    await expectCode(
      prescriber.http.request(CompleteSessionDocument, { sessionId: preparation }),
      'FORBIDDEN',
    );
    await therapist.http.request(CompleteSessionDocument, { sessionId: preparation });
    await expectCode(therapist.http.request(CompleteSessionDocument, { sessionId: preparation }), 'CONFLICT');
    await expectCode(
      therapist.http.request(CompleteSessionDocument, { sessionId: dosing }),
      'BAD_USER_INPUT',
    );
    await expectCode(prescriber.http.request(CompleteSessionDocument, { sessionId: onTime.id }), 'FORBIDDEN');
    const followUp = (await schedule(prescriber, planId, 'FOLLOW_UP', new Date())).scheduleSession.id;
    await prescriber.http.request(CompleteSessionDocument, { sessionId: followUp });

    const concurrent = await patientWithPlan({ protocol: 'CONCURRENT' });
    const d = (await schedule(prescriber, concurrent.planId, 'DOSING', dosingAt)).scheduleSession.id;
    expect(
      (await schedule(therapist, concurrent.planId, 'INTEGRATION', new Date(dosingAt.getTime() + 5 * DAY), d))
        .scheduleSession.integrationOutsideWindow,
    ).toBe(false);

    const { patient } = await prescriber.http.request(PatientSessionsDocument, { id: patientId });
    expect(patient?.sessions.map((s) => s.kind)).toEqual([
      'PREPARATION',
      'FOLLOW_UP',
      'DOSING',
      'INTEGRATION',
      'INTEGRATION',
    ]);
  });
});

describe('psychotherapy notes', () => {
  it('are read and written by their author alone, and their existence and reads are audited', async () => {
    const { patientId, planId } = await patientWithPlan();
    const session = (await schedule(therapist, planId, 'INTEGRATION', new Date())).scheduleSession.id;
    const secret = 'PRIVATE-PROCESS-NOTE: childhood material surfaced';
    await expectCode(
      prescriber.http.request(WritePsychotherapyNoteDocument, { sessionId: session, text: 'x' }),
      'FORBIDDEN',
    );
    await expectCode(
      outsider.http.request(WritePsychotherapyNoteDocument, { sessionId: session, text: 'x' }),
      'FORBIDDEN',
    );
    const { writePsychotherapyNote } = await therapist.http.request(WritePsychotherapyNoteDocument, {
      sessionId: session,
      text: secret,
    });

    expect(
      (await therapist.http.request(PsychotherapyNoteDocument, { sessionId: session })).psychotherapyNote
        ?.text,
    ).toBe(secret);
    expect(
      (await prescriber.http.request(PsychotherapyNoteDocument, { sessionId: session })).psychotherapyNote,
    ).toBeNull();
    expect(
      (await colleague.http.request(PsychotherapyNoteDocument, { sessionId: session })).psychotherapyNote,
    ).toBeNull();
    await expectCode(outsider.http.request(PsychotherapyNoteDocument, { sessionId: session }), 'FORBIDDEN');

    // Not in any list or shared view.
    for (const who of [prescriber, therapist]) {
      const everything = await who.http.request(PatientSessionsDocument, { id: patientId });
      expect(JSON.stringify(everything)).not.toContain('PRIVATE-PROCESS-NOTE');
    }
    const audit = await server.sql<{ action: string; entity_id: string }>(
      "select action, entity_id from audit_event where patient_id = $1 and entity = 'PsychotherapyNote' order by id",
      [patientId],
    );
    expect(audit).toEqual([
      { action: 'psychotherapyNote.write', entity_id: writePsychotherapyNote.id },
      { action: 'psychotherapyNote.read', entity_id: writePsychotherapyNote.id },
    ]);
    const anywhere = await server.sql<{ n: number }>(
      "select count(*)::int as n from audit_event where action like '%PRIVATE-PROCESS%' or entity_id like '%PRIVATE-PROCESS%'",
    );
    expect(anywhere[0].n).toBe(0);
    expect(server.logs.join('')).not.toContain('PRIVATE-PROCESS-NOTE');
  });
});
