import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  ChangePatientStatusDocument,
  CorrectPrescriptionDocument,
  MeDocument,
  PatientPathwayDocument,
  PatientTimelineDocument,
  PrescribeDocument,
  RecordConsentDocument,
  RecordEligibilityAssessmentDocument,
  RecordMeasureDocument,
  VoidPrescriptionDocument,
  type PrescribeInput,
  type RecordEligibilityAssessmentInput,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { daysAgo } from './support/time';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let outsider: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  outsider = await server.clinician(Role.PRESCRIBER);
  await therapist.http.request(MeDocument);
});
afterAll(() => server.close());

/** Registered by the therapist, with the prescriber on the team. */
async function newPatient(): Promise<string> {
  await prescriber.http.request(MeDocument);
  return patientWithTeam(therapist, prescriber, {
    firstName: 'Ari',
    lastName: 'Pathway',
    dateOfBirth: '1975-03-03',
  });
}

const assessment = (
  patientId: string,
  change: Partial<RecordEligibilityAssessmentInput> = {},
): RecordEligibilityAssessmentInput => ({
  patientId,
  contraindications: [],
  cautions: ['controlled hypertension on one agent'],
  baselineBloodPressure: { systolic: 132, diastolic: 84 },
  decision: 'ELIGIBLE',
  ...change,
});
const consent = (patientId: string, change = {}) => ({
  patientId,
  textVersion: 'KAP-consent-v3',
  consentedOn: daysAgo(10),
  acknowledgesRisks: true,
  acknowledgesOffLabelUse: true,
  acknowledgesIntegration: true,
  ...change,
});
const ketamine = (patientId: string, change: Partial<PrescribeInput> = {}): PrescribeInput => ({
  patientId,
  medication: 'KETAMINE',
  route: 'IM',
  doseMg: 35,
  quantity: 1,
  refills: 0,
  ...change,
});

async function pathway(patientId: string) {
  return (await prescriber.http.request(PatientPathwayDocument, { id: patientId })).patient!;
}

describe('eligibility', () => {
  it('is recorded by the prescriber only, and moves the status with the decision', async () => {
    const patientId = await newPatient();
    expect((await pathway(patientId)).status).toBe('REFERRED');
    await expectCode(
      therapist.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) }),
      'FORBIDDEN',
    );
    await expectCode(
      outsider.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) }),
      'FORBIDDEN',
    );
    await prescriber.http.request(RecordEligibilityAssessmentDocument, {
      input: assessment(patientId, { decision: 'NEEDS_REVIEW' }),
    });
    expect((await pathway(patientId)).status).toBe('SCREENING');
    await prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) });
    expect((await pathway(patientId)).status).toBe('ELIGIBLE');
    await prescriber.http.request(RecordEligibilityAssessmentDocument, {
      input: assessment(patientId, { decision: 'INELIGIBLE', contraindications: ['ACTIVE_PSYCHOSIS'] }),
    });
    const after = await pathway(patientId);
    expect(after.status).toBe('INELIGIBLE');
    const audit = await server.sql<{ n: number }>(
      "select count(*)::int as n from audit_event where patient_id = $1 and action = 'eligibility.create'",
      [patientId],
    );
    expect(audit[0].n).toBe(3);
    expect(after.eligibilityAssessments.map((a) => a.decision)).toEqual([
      'NEEDS_REVIEW',
      'ELIGIBLE',
      'INELIGIBLE',
    ]);
  });

  it('refuses ELIGIBLE beside an absolute contraindication or uncontrolled hypertension, and writes nothing', async () => {
    const patientId = await newPatient();
    const message = await expectCode(
      prescriber.http.request(RecordEligibilityAssessmentDocument, {
        input: assessment(patientId, { contraindications: ['PREGNANCY'] }),
      }),
      'BAD_USER_INPUT',
    );
    expect(message).toContain('PREGNANCY');
    await expectCode(
      prescriber.http.request(RecordEligibilityAssessmentDocument, {
        input: assessment(patientId, { baselineBloodPressure: { systolic: 186, diastolic: 96 } }),
      }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      prescriber.http.request(RecordEligibilityAssessmentDocument, {
        input: assessment(patientId, { baselineBloodPressure: { systolic: 80, diastolic: 120 } }),
      }),
      'BAD_USER_INPUT',
    );
    const after = await pathway(patientId);
    expect(after.eligibilityAssessments).toEqual([]);
    expect(after.status).toBe('REFERRED');
  });

  it.each([
    'PSYCHOSIS_OR_SCHIZOPHRENIA_HISTORY',
    'CURRENT_MANIA',
    'SEVERE_HEPATIC_IMPAIRMENT',
    'RAISED_INTRACRANIAL_PRESSURE',
    'RAISED_INTRAOCULAR_PRESSURE',
    'BREASTFEEDING',
    'RECENT_MYOCARDIAL_INFARCTION',
    'UNSTABLE_ANGINA',
    'HEART_FAILURE',
  ] as const)(
    'refuses ELIGIBLE beside %s, records INELIGIBLE with it, and only from a prescriber',
    async (contraindication) => {
      const patientId = await newPatient();
      expect(
        await expectCode(
          prescriber.http.request(RecordEligibilityAssessmentDocument, {
            input: assessment(patientId, { contraindications: [contraindication] }),
          }),
          'BAD_USER_INPUT',
        ),
      ).toContain(contraindication);
      await expectCode(
        therapist.http.request(RecordEligibilityAssessmentDocument, {
          input: assessment(patientId, { contraindications: [contraindication], decision: 'INELIGIBLE' }),
        }),
        'FORBIDDEN',
      );
      const { recordEligibilityAssessment } = await prescriber.http.request(
        RecordEligibilityAssessmentDocument,
        {
          input: assessment(patientId, { contraindications: [contraindication], decision: 'INELIGIBLE' }),
        },
      );
      expect(recordEligibilityAssessment.contraindications).toEqual([contraindication]);
      expect((await pathway(patientId)).status).toBe('INELIGIBLE');
    },
  );
});

describe('consent and status', () => {
  it('needs every acknowledgement, and treatment cannot start without eligibility and consent', async () => {
    const patientId = await newPatient();
    const missing = await expectCode(
      therapist.http.request(ChangePatientStatusDocument, { patientId, status: 'ACTIVE' }),
      'CONFLICT',
    );
    expect(missing).toContain('ELIGIBLE');
    await expectCode(
      therapist.http.request(ChangePatientStatusDocument, { patientId, status: 'ELIGIBLE' }),
      'CONFLICT',
    );
    await prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) });
    const noConsent = await expectCode(
      therapist.http.request(ChangePatientStatusDocument, { patientId, status: 'ACTIVE' }),
      'CONFLICT',
    );
    expect(noConsent).toContain('informed consent');

    const unacknowledged = await expectCode(
      therapist.http.request(RecordConsentDocument, {
        input: consent(patientId, { acknowledgesOffLabelUse: false }),
      }),
      'BAD_USER_INPUT',
    );
    expect(unacknowledged).toContain('off-label use');
    await expectCode(
      therapist.http.request(RecordConsentDocument, {
        input: consent(patientId, { consentedOn: '2999-01-01' }),
      }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      outsider.http.request(RecordConsentDocument, { input: consent(patientId) }),
      'FORBIDDEN',
    );
    await therapist.http.request(RecordConsentDocument, { input: consent(patientId) });

    expect(
      (await therapist.http.request(ChangePatientStatusDocument, { patientId, status: 'ACTIVE' }))
        .changePatientStatus.status,
    ).toBe('ACTIVE');
    expect(
      (await therapist.http.request(ChangePatientStatusDocument, { patientId, status: 'MAINTENANCE' }))
        .changePatientStatus.status,
    ).toBe('MAINTENANCE');
    expect(
      (
        await prescriber.http.request(ChangePatientStatusDocument, {
          patientId,
          status: 'DISCHARGED',
          reason: 'completed induction and maintenance',
        })
      ).changePatientStatus.status,
    ).toBe('DISCHARGED');
    await expectCode(
      prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) }),
      'CONFLICT',
    );
    await expectCode(
      outsider.http.request(ChangePatientStatusDocument, { patientId, status: 'REFERRED' }),
      'FORBIDDEN',
    );
  });
});

describe('prescriptions', () => {
  async function readyPatient(): Promise<string> {
    const patientId = await newPatient();
    await prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) });
    await therapist.http.request(RecordConsentDocument, { input: consent(patientId) });
    return patientId;
  }

  it('are written by the prescriber only, after an ELIGIBLE assessment and a consent', async () => {
    const patientId = await newPatient();
    const noAssessment = await expectCode(
      prescriber.http.request(PrescribeDocument, { input: ketamine(patientId) }),
      'CONFLICT',
    );
    expect(noAssessment).toContain('ELIGIBLE');
    await prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) });
    const noConsent = await expectCode(
      prescriber.http.request(PrescribeDocument, { input: ketamine(patientId) }),
      'CONFLICT',
    );
    expect(noConsent).toContain('informed consent');
    await therapist.http.request(RecordConsentDocument, { input: consent(patientId) });
    await expectCode(therapist.http.request(PrescribeDocument, { input: ketamine(patientId) }), 'FORBIDDEN');
    await expectCode(outsider.http.request(PrescribeDocument, { input: ketamine(patientId) }), 'FORBIDDEN');
    const { prescribe } = await prescriber.http.request(PrescribeDocument, { input: ketamine(patientId) });
    expect(prescribe).toMatchObject({
      medication: 'KETAMINE',
      route: 'IM',
      doseMg: 35,
      quantity: 1,
      refills: 0,
      voidedAt: null,
    });
  });

  it('refuse a medication by the wrong route, implausible doses and too many refills', async () => {
    const patientId = await readyPatient();
    for (const change of [
      { medication: 'ESKETAMINE' as const, route: 'IM' as const },
      { route: 'INTRANASAL_ESKETAMINE' as const },
      { medication: 'ESKETAMINE' as const, route: 'INTRANASAL_ESKETAMINE' as const, doseMg: 50 },
      { doseMg: 3500 },
      { refills: 6 },
    ]) {
      await expectCode(
        prescriber.http.request(PrescribeDocument, { input: ketamine(patientId, change) }),
        'BAD_USER_INPUT',
      );
    }
    expect((await pathway(patientId)).prescriptions).toEqual([]);
  });

  it('are never deleted or edited: a correction voids with a reason and adds a new one', async () => {
    const patientId = await readyPatient();
    const first = (await prescriber.http.request(PrescribeDocument, { input: ketamine(patientId) }))
      .prescribe;
    await expectCode(
      therapist.http.request(VoidPrescriptionDocument, { id: first.id, reason: 'wrong dose' }),
      'FORBIDDEN',
    );
    await expectCode(
      prescriber.http.request(VoidPrescriptionDocument, { id: first.id, reason: ' ' }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      therapist.http.request(CorrectPrescriptionDocument, {
        id: first.id,
        reason: 'wrong dose',
        input: { medication: 'KETAMINE', route: 'IM', doseMg: 40, quantity: 1, refills: 0 },
      }),
      'FORBIDDEN',
    );
    const { correctPrescription } = await prescriber.http.request(CorrectPrescriptionDocument, {
      id: first.id,
      reason: 'dose is 0.5 mg/kg for 80 kg',
      input: { medication: 'KETAMINE', route: 'IM', doseMg: 40, quantity: 1, refills: 0 },
    });
    expect(correctPrescription.doseMg).toBe(40);
    expect(correctPrescription.replaces).toMatchObject({
      id: first.id,
      voidReason: 'dose is 0.5 mg/kg for 80 kg',
    });
    await expectCode(
      prescriber.http.request(VoidPrescriptionDocument, { id: first.id, reason: 'again' }),
      'CONFLICT',
    );

    const { voidPrescription } = await prescriber.http.request(VoidPrescriptionDocument, {
      id: correctPrescription.id,
      reason: 'treatment paused',
    });
    expect(voidPrescription.voidReason).toBe('treatment paused');
    const kept = (await pathway(patientId)).prescriptions;
    expect(kept.map((p) => [p.doseMg, p.voidReason])).toEqual([
      [35, 'dose is 0.5 mg/kg for 80 kg'],
      [40, 'treatment paused'],
    ]);

    // The database itself refuses to lose or rewrite them.
    await expect(server.sql('delete from prescription where id = $1', [first.id])).rejects.toThrow(
      /never deleted or edited/,
    );
    await expect(server.sql('update prescription set dose_mg = 1 where id = $1', [first.id])).rejects.toThrow(
      /never deleted or edited/,
    );
    await expect(
      server.sql('update prescription set void_reason = $2 where id = $1', [first.id, 'rewritten']),
    ).rejects.toThrow(/never deleted or edited/);
    await expect(server.sql('truncate prescription cascade')).rejects.toThrow(/never deleted or edited/);

    const audit = await server.sql<{ action: string }>(
      "select action from audit_event where patient_id = $1 and action like 'prescription.%' and action <> 'prescription.read' order by id",
      [patientId],
    );
    expect(audit.map((r) => r.action)).toEqual([
      'prescription.create',
      'prescription.void',
      'prescription.create',
      'prescription.void',
    ]);
  });
});

describe('the timeline', () => {
  it('merges the record in time order, pages by cursor, and costs the same few statements at any size', async () => {
    const patientId = await newPatient();
    await prescriber.http.request(RecordEligibilityAssessmentDocument, { input: assessment(patientId) });
    await therapist.http.request(RecordConsentDocument, { input: consent(patientId) });
    await prescriber.http.request(PrescribeDocument, { input: ketamine(patientId) });
    for (let i = 0; i < 30; i++) {
      await therapist.http.request(RecordMeasureDocument, {
        input: {
          patientId,
          instrument: 'PHQ9',
          responses: [1, 1, 1, 1, 1, 1, 1, 1, i % 2],
          administeredAt: new Date(Date.now() - (30 - i) * 60_000).toISOString(),
        },
      });
    }

    const page = async (first: number, after?: string | null) => {
      server.queries.length = 0;
      const { patient } = await prescriber.http.request(PatientTimelineDocument, {
        id: patientId,
        first,
        after,
      });
      return { timeline: patient!.timeline, statements: [...server.queries] };
    };
    const all = await page(100);
    const kinds = all.timeline.edges.map((e) => e.node.kind);
    expect(kinds.filter((k) => k === 'MEASURE')).toHaveLength(30);
    expect(kinds.filter((k) => k === 'SCORE_ALERT')).toHaveLength(15);
    expect(
      kinds.filter((k) => ['ELIGIBILITY_ASSESSMENT', 'CONSENT', 'PRESCRIPTION'].includes(k)),
    ).toHaveLength(3);
    const times = all.timeline.edges.map((e) => Date.parse(e.node.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.timeline.edges.every((e) => e.node.item.__typename !== undefined)).toBe(true);

    // Paging by cursor walks the same entries, without gaps or repeats.
    const walked: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const { timeline } = await page(7, after);
      walked.push(...timeline.edges.map((e) => e.cursor));
      if (!timeline.pageInfo.hasNextPage) break;
      after = timeline.pageInfo.endCursor;
    }
    expect(walked).toEqual(all.timeline.edges.map((e) => e.cursor));

    const small = await page(5);
    const data = (statements: string[]) =>
      statements.filter((sql) => /^select/i.test(sql) && !/"c0"\."sub"/.test(sql));
    expect(data(small.statements).length).toBeLessThanOrEqual(data(all.statements).length);
    // Patient, the page query, one load per kind on the page (six at most).
    expect(data(all.statements).length).toBeLessThanOrEqual(8);
    await expectCode(
      prescriber.http.request(PatientTimelineDocument, { id: patientId, first: 5, after: 'bm9wZQ' }),
      'BAD_USER_INPUT',
    );
    await expectCode(
      outsider.http.request(PatientTimelineDocument, { id: patientId, first: 5 }),
      'FORBIDDEN',
    );
  });
});
