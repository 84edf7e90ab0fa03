import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  ChangePatientStatusDocument,
  CompleteDosingSessionDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
  PatientCoursesDocument,
  PatientTimelineDocument,
  PrescribeDocument,
  RecordConsentDocument,
  RecordEligibilityAssessmentDocument,
  RecordMeasureDocument,
  ScheduleSessionDocument,
  WithdrawConsentDocument,
  type EligibilityDecision,
} from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { daysAgo, fromNow, HOUR } from './support/time';
import { patientWithTeam } from './support/careTeam';
import { dosingInput } from './support/dosing';
import { phq9 } from './support/instruments';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;
let admin: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.PRESCRIBER);
  admin = await server.clinician(Role.ADMIN);
  await therapist.http.request(MeDocument);
});
afterAll(() => server.close());

const newPatient = () =>
  patientWithTeam(prescriber, therapist, {
    firstName: 'Cora',
    lastName: 'Course',
    dateOfBirth: '1979-04-04',
  });

const assess = (patientId: string, decision: EligibilityDecision = 'ELIGIBLE') =>
  prescriber.http.request(RecordEligibilityAssessmentDocument, {
    input: {
      patientId,
      contraindications: [],
      cautions: [],
      baselineBloodPressure: { systolic: 128, diastolic: 80 },
      decision,
    },
  });
const consent = (patientId: string) =>
  therapist.http.request(RecordConsentDocument, {
    input: {
      patientId,
      textVersion: 'v4',
      consentedOn: daysAgo(1),
      acknowledgesRisks: true,
      acknowledgesOffLabelUse: true,
      acknowledgesIntegration: true,
    },
  });
const prescribe = (patientId: string, quantity = 6) =>
  prescriber.http.request(PrescribeDocument, {
    input: { patientId, medication: 'KETAMINE', route: 'IM', doseMg: 40, quantity },
  });
const plan = async (patientId: string) =>
  (
    await prescriber.http.request(CreateTreatmentPlanDocument, {
      input: { patientId, protocol: 'SEPARATE_DAY', route: 'IM', plannedDosingSessions: 6 },
    })
  ).createTreatmentPlan.id;
const scheduleDosing = (planId: string, at = fromNow(-2 * HOUR)) =>
  prescriber.http.request(ScheduleSessionDocument, {
    input: { planId, kind: 'DOSING', scheduledAt: at.toISOString() },
  });
const status = (
  patientId: string,
  to: 'ACTIVE' | 'MAINTENANCE' | 'DISCHARGED' | 'REFERRED',
  reason?: string,
) => prescriber.http.request(ChangePatientStatusDocument, { patientId, status: to, reason });
const courses = async (patientId: string) =>
  (await prescriber.http.request(PatientCoursesDocument, { id: patientId })).patient!;

/** A patient in ACTIVE treatment in course 1, with a plan, a prescription and a scheduled dosing session. */
async function activePatient() {
  const patientId = await newPatient();
  await assess(patientId);
  const consentId = (await consent(patientId)).recordConsent.id;
  await status(patientId, 'ACTIVE');
  const planId = await plan(patientId);
  const prescriptionId = (await prescribe(patientId)).prescribe.id;
  const sessionId = (await scheduleDosing(planId)).scheduleSession.id;
  return { patientId, consentId, planId, prescriptionId, sessionId };
}

describe('courses of treatment', () => {
  it('open with the patient, close at discharge with a reason, and the next opens at a new referral', async () => {
    const patientId = await newPatient();
    const first = await courses(patientId);
    expect(first.courses).toHaveLength(1);
    expect(first.currentCourse).toMatchObject({
      number: 1,
      status: 'REFERRED',
      closedAt: null,
      dischargeReason: null,
    });

    await assess(patientId);
    expect((await courses(patientId)).currentCourse.status).toBe('ELIGIBLE');
    expect(await expectCode(status(patientId, 'DISCHARGED'), 'BAD_USER_INPUT')).toContain('reason');
    expect(await expectCode(status(patientId, 'DISCHARGED', '  '), 'BAD_USER_INPUT')).toContain('reason');
    expect(await expectCode(status(patientId, 'ACTIVE', 'starting'), 'BAD_USER_INPUT')).toContain(
      'only with a discharge',
    );
    await expectCode(
      outsider.http.request(ChangePatientStatusDocument, {
        patientId,
        status: 'DISCHARGED',
        reason: 'moved away',
      }),
      'FORBIDDEN',
    );
    await expectCode(
      admin.http.request(ChangePatientStatusDocument, {
        patientId,
        status: 'DISCHARGED',
        reason: 'moved away',
      }),
      'FORBIDDEN',
    );

    await status(patientId, 'DISCHARGED', 'moved out of state');
    const discharged = await courses(patientId);
    expect(discharged.status).toBe('DISCHARGED');
    expect(discharged.currentCourse).toMatchObject({
      number: 1,
      status: 'DISCHARGED',
      dischargeReason: 'moved out of state',
    });
    expect(discharged.currentCourse.closedAt).not.toBeNull();

    await status(patientId, 'REFERRED');
    const again = await courses(patientId);
    expect(again.courses.map((c) => [c.number, c.status])).toEqual([
      [1, 'DISCHARGED'],
      [2, 'REFERRED'],
    ]);
    expect(again.currentCourse).toMatchObject({ number: 2, closedAt: null });
    expect(again.eligibilityAssessments.map((a) => a.course.number)).toEqual([1]);

    const audit = await server.sql<{ action: string }>(
      "select action from audit_event where patient_id = $1 and action like 'course.%' and action <> 'course.read' order by id",
      [patientId],
    );
    expect(audit.map((r) => r.action)).toEqual(['course.open', 'course.close', 'course.open']);

    // The timeline shows each opening and closing, newest first.
    const { patient } = await therapist.http.request(PatientTimelineDocument, { id: patientId, first: 10 });
    const events = patient!.timeline.edges.map((e) =>
      e.node.item.__typename === 'TreatmentCourse' ? `${e.node.kind}:${e.node.item.number}` : e.node.kind,
    );
    expect(events).toEqual([
      'COURSE_OPENED:2',
      'COURSE_CLOSED:1',
      'ELIGIBILITY_ASSESSMENT',
      'COURSE_OPENED:1',
    ]);
  });

  it('hold every record made in them; the gates look at the current course only', async () => {
    const { patientId, sessionId, prescriptionId } = await activePatient();
    await prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'PHQ9', responses: [2, 2, 2, 2, 2, 2, 2, 2, 0] },
    });
    await status(patientId, 'DISCHARGED', 'completed the course');

    // Discharged: no prescription, no dosing session, no dose, no consent, no plan.
    const planId = (await courses(patientId)).treatmentPlans[0].id;
    for (const refused of [
      () => prescribe(patientId),
      () => scheduleDosing(planId),
      () =>
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(sessionId, prescriptionId),
        }),
    ]) {
      expect(await expectCode(refused(), 'CONFLICT')).toContain('DISCHARGED');
    }
    expect(await expectCode(consent(patientId), 'CONFLICT')).toContain('refer them again');
    await expectCode(plan(patientId), 'CONFLICT');

    // A new course: the previous course's assessment and consent do not count.
    await status(patientId, 'REFERRED');
    const secondPlan = await plan(patientId);
    expect(await expectCode(prescribe(patientId), 'CONFLICT')).toContain(
      'the patient is REFERRED, not ELIGIBLE, ACTIVE or MAINTENANCE; an ELIGIBLE eligibility assessment in the current course and an informed consent in the current course',
    );
    await expectCode(scheduleDosing(secondPlan), 'CONFLICT');
    expect(
      await expectCode(
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(sessionId, prescriptionId),
        }),
        'CONFLICT',
      ),
    ).toContain('current course');
    await assess(patientId);
    expect(await expectCode(prescribe(patientId), 'CONFLICT')).toContain(
      'an informed consent in the current course that has not been withdrawn is missing',
    );
    await expectCode(status(patientId, 'ACTIVE'), 'CONFLICT');
    await consent(patientId);
    await prescribe(patientId);
    // The first course's plan stays with it: the second course schedules on its own plan.
    expect(await expectCode(scheduleDosing(planId), 'CONFLICT')).toContain('earlier course');
    // The first course's session cannot be dosed in the second.
    expect(
      await expectCode(
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(sessionId, prescriptionId),
        }),
        'CONFLICT',
      ),
    ).toContain('earlier course');
    await scheduleDosing(secondPlan);
    await prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'PHQ9', responses: [3, 3, 3, 3, 3, 3, 3, 3, 0] },
    });

    const record = await courses(patientId);
    expect(record.eligibilityAssessments.map((a) => a.course.number)).toEqual([1, 2]);
    expect(record.consents.map((c) => c.course.number)).toEqual([1, 2]);
    expect(record.prescriptions.map((p) => p.course.number)).toEqual([1, 2]);
    expect(record.treatmentPlans.map((p) => p.course.number)).toEqual([1, 2]);
    expect(record.sessions.map((s) => s.course.number).sort()).toEqual([1, 2]);
    // Newest first; each course's first measure is its own baseline.
    expect(record.measures.edges.map((e) => [e.node.course.number, e.node.changeFromBaseline])).toEqual([
      [2, 0],
      [1, 0],
    ]);
    const reads = await server.sql<{ n: number }>(
      "select count(*)::int as n from audit_event where patient_id = $1 and action = 'course.read'",
      [patientId],
    );
    expect(reads[0].n).toBeGreaterThan(0);
  });

  it('stop dosing when a re-assessment during treatment is not ELIGIBLE, until an ELIGIBLE one', async () => {
    const { patientId, sessionId, prescriptionId } = await activePatient();
    await assess(patientId, 'INELIGIBLE');
    expect((await courses(patientId)).status).toBe('ACTIVE');
    expect(await expectCode(prescribe(patientId), 'CONFLICT')).toContain('(the latest is INELIGIBLE)');
    const planId = (await courses(patientId)).treatmentPlans[0].id;
    expect(await expectCode(scheduleDosing(planId), 'CONFLICT')).toContain('(the latest is INELIGIBLE)');
    expect(
      await expectCode(
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(sessionId, prescriptionId),
        }),
        'CONFLICT',
      ),
    ).toContain('(the latest is INELIGIBLE)');
    await assess(patientId, 'NEEDS_REVIEW');
    await expectCode(prescribe(patientId), 'CONFLICT');
    await assess(patientId);
    await prescriber.http.request(CompleteDosingSessionDocument, {
      input: dosingInput(sessionId, prescriptionId),
    });
  });
});

describe('withdrawing consent', () => {
  it('is done once with a reason by any care-team clinician, keeps the consent, and stops dosing until a new consent', async () => {
    const { patientId, consentId, sessionId, prescriptionId } = await activePatient();
    expect(
      await expectCode(
        therapist.http.request(WithdrawConsentDocument, { consentId, reason: '' }),
        'BAD_USER_INPUT',
      ),
    ).toContain('reason');
    await expectCode(
      outsider.http.request(WithdrawConsentDocument, { consentId, reason: 'patient asked' }),
      'FORBIDDEN',
    );
    await expectCode(
      admin.http.request(WithdrawConsentDocument, { consentId, reason: 'patient asked' }),
      'FORBIDDEN',
    );
    await expectCode(
      therapist.http.request(WithdrawConsentDocument, {
        consentId: '00000000-0000-7000-8000-000000000000',
        reason: 'patient asked',
      }),
      'NOT_FOUND',
    );

    const { withdrawConsent } = await therapist.http.request(WithdrawConsentDocument, {
      consentId,
      reason: 'patient no longer wishes to continue',
    });
    expect(withdrawConsent).toMatchObject({
      id: consentId,
      withdrawalReason: 'patient no longer wishes to continue',
      course: { number: 1 },
    });
    expect(withdrawConsent.withdrawnAt).not.toBeNull();
    expect(
      await expectCode(
        prescriber.http.request(WithdrawConsentDocument, { consentId, reason: 'again' }),
        'CONFLICT',
      ),
    ).toContain('already withdrawn');

    const missing = 'an informed consent in the current course that has not been withdrawn is missing';
    expect(
      await expectCode(
        prescriber.http.request(CompleteDosingSessionDocument, {
          input: dosingInput(sessionId, prescriptionId),
        }),
        'CONFLICT',
      ),
    ).toContain(missing);
    expect(await expectCode(prescribe(patientId), 'CONFLICT')).toContain(missing);
    const planId = (await courses(patientId)).treatmentPlans[0].id;
    expect(await expectCode(scheduleDosing(planId), 'CONFLICT')).toContain(missing);
    expect((await courses(patientId)).consents).toHaveLength(1);

    await expect(server.sql('delete from consent where id = $1', [consentId])).rejects.toThrow(
      /never deleted or edited/,
    );
    await expect(
      server.sql("update consent set withdrawal_reason = 'edited' where id = $1", [consentId]),
    ).rejects.toThrow(/never deleted or edited/);
    const audit = await server.sql<{ action: string }>(
      "select action from audit_event where entity_id = $1 and action like 'consent.%' and action <> 'consent.read' order by id",
      [consentId],
    );
    expect(audit.map((r) => r.action)).toEqual(['consent.create', 'consent.withdraw']);

    await consent(patientId);
    await prescriber.http.request(CompleteDosingSessionDocument, {
      input: dosingInput(sessionId, prescriptionId),
    });
  });
});

describe('measures per course', () => {
  const record = async (patientId: string, total: number) =>
    (
      await therapist.http.request(RecordMeasureDocument, {
        input: { patientId, instrument: 'PHQ9', responses: phq9(total) },
      })
    ).recordMeasure;
  const kinds = (m: { alerts: { kind: string }[] }) =>
    m.alerts.map((a) => a.kind).filter((k) => ['RESPONSE', 'REMISSION', 'RELAPSE'].includes(k));

  it('take the first of the course as baseline, raise RESPONSE and REMISSION once per course and RELAPSE once per remission', async () => {
    const patientId = await newPatient();
    expect(kinds(await record(patientId, 20))).toEqual([]);
    expect(kinds(await record(patientId, 4))).toEqual(['RESPONSE', 'REMISSION']);
    expect(kinds(await record(patientId, 3))).toEqual([]);
    const relapse = await record(patientId, 12);
    expect(relapse.alerts.find((a) => a.kind === 'RELAPSE')).toMatchObject({ level: 'WARNING' });
    expect(kinds(await record(patientId, 14))).toEqual([]);
    expect(kinds(await record(patientId, 4))).toEqual([]);

    await status(patientId, 'DISCHARGED', 'remitted');
    await status(patientId, 'REFERRED');
    const baseline = await record(patientId, 18);
    expect(baseline.changeFromBaseline).toBe(0);
    expect(kinds(baseline)).toEqual([]);
    const remitted = await record(patientId, 2);
    expect(remitted.changeFromBaseline).toBe(-16);
    expect(kinds(remitted)).toEqual(['RESPONSE', 'REMISSION']);
    expect(kinds(await record(patientId, 10))).toEqual(['RELAPSE']);
    const alerts = (await courses(patientId)).alerts.filter((a) => a.kind === 'RELAPSE');
    expect(alerts.map((a) => a.course.number).sort()).toEqual([1, 2]);
  });
});
