import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { ClientError, GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  AcknowledgeAlertDocument,
  CompleteDosingSessionDocument,
  CorrectPrescriptionDocument,
  CreateTreatmentPlanDocument,
  MeDocument,
  PrescribeDocument,
  RecordConsentDocument,
  RecordEligibilityAssessmentDocument,
  RecordMeasureDocument,
  ScheduleSessionDocument,
  UpdatePlanSectionDocument,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { dosingInput } from './support/dosing';
import { DAY, daysAgo, fromNow } from './support/time';

/**
 * Every read of patient data is audited, whatever path reaches it. The paths are not listed here:
 * they are generated from the served schema (introspection), so a field added later is walked too.
 * Each path from `patient(id)` (and `treatmentPlan(id)`) is queried alone, under a request id of its own, and every object
 * with an id in the answer must have that request's audit row (`entity` = its type, `entity_id` =
 * its id). An object without an id (a plan section, a care-team membership) is part of the nearest
 * object above it that has one, whose row covers it.
 */

/**
 * Paths no record can have data on: a measure's alerts have no session (only a dose's VITAL_SIGNS
 * alert does), and an alert's session is a dosing session, which integrates no other session.
 */
const EMPTY_BY_DESIGN = [
  /(measures\.edges\.node|latestMeasures|item<Measure>)\.alerts\.session/,
  /(^|\.)session\.dosingSession/,
];

/** Types whose objects are not patient data: reading them needs no row. */
const NOT_PATIENT_DATA = new Set(['Clinician', 'PageInfo']);

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;
let schema: GraphQLSchema;
let patientId: string;
let planId: string;

/** A patient whose record has something behind every field: the walk must find data on each path. */
async function patientWithEverything(): Promise<{ patientId: string; planId: string }> {
  const id = await patientWithTeam(prescriber, therapist, {
    firstName: 'Robin',
    lastName: 'Walk',
    dateOfBirth: '1984-04-04',
  });
  const measure = (responses: number[], days: number) =>
    therapist.http.request(RecordMeasureDocument, {
      input: {
        patientId: id,
        instrument: 'PHQ9',
        responses,
        administeredAt: fromNow(-days * DAY).toISOString(),
      },
    });
  const first = await measure([3, 3, 3, 3, 3, 3, 3, 3, 1], 20);
  await measure([3, 3, 3, 3, 3, 3, 3, 2, 2], 10);
  await therapist.http.request(AcknowledgeAlertDocument, { id: first.recordMeasure.alerts[0].id });

  await prescriber.http.request(RecordEligibilityAssessmentDocument, {
    input: {
      patientId: id,
      contraindications: [],
      cautions: ['migraine'],
      baselineBloodPressure: { systolic: 126, diastolic: 80 },
      decision: 'ELIGIBLE',
    },
  });
  await therapist.http.request(RecordConsentDocument, {
    input: {
      patientId: id,
      textVersion: 'v3',
      consentedOn: daysAgo(9),
      acknowledgesRisks: true,
      acknowledgesOffLabelUse: true,
      acknowledgesIntegration: true,
    },
  });
  const { prescribe } = await prescriber.http.request(PrescribeDocument, {
    input: { patientId: id, medication: 'KETAMINE', route: 'IM', doseMg: 35, quantity: 6 },
  });
  const { correctPrescription } = await prescriber.http.request(CorrectPrescriptionDocument, {
    id: prescribe.id,
    reason: 'dose written in the wrong unit',
    input: { medication: 'KETAMINE', route: 'IM', doseMg: 40, quantity: 6, refills: 0 },
  });

  const { createTreatmentPlan } = await prescriber.http.request(CreateTreatmentPlanDocument, {
    input: { patientId: id, protocol: 'SEPARATE_DAY', route: 'IM', plannedDosingSessions: 6 },
  });
  const planId = createTreatmentPlan.id;
  await prescriber.http.request(UpdatePlanSectionDocument, {
    planId,
    key: 'medication',
    text: 'Ketamine 40 mg IM',
  });
  const { scheduleSession: dosing } = await prescriber.http.request(ScheduleSessionDocument, {
    input: { planId, kind: 'DOSING', scheduledAt: fromNow(-DAY).toISOString() },
  });
  // A post-dose blood pressure above 180/100: the dose raises a VITAL_SIGNS alert (ScoreAlert.session).
  await prescriber.http.request(CompleteDosingSessionDocument, {
    input: dosingInput(dosing.id, correctPrescription.id, {
      vitalSignsAfter: { systolic: 196, diastolic: 108 },
      adverseEvents: ['DISSOCIATION'],
    }),
  });
  await therapist.http.request(ScheduleSessionDocument, {
    input: {
      planId,
      kind: 'INTEGRATION',
      scheduledAt: fromNow(DAY).toISOString(),
      dosingSessionId: dosing.id,
    },
  });
  return { patientId: id, planId };
}

/** One step down from an object: a field, then (for a union or interface) one of its types. */
interface Step {
  field: string;
  on?: string;
}

interface WalkPath {
  /** The query field the path starts from (`patient`, `treatmentPlan`), and the type it answers. */
  root: { field: string; type: GraphQLObjectType };
  steps: Step[];
  /** The type the path ends in. */
  leaf: GraphQLObjectType;
}

/** The fields of a type that can be selected without arguments: every argument optional. */
function selectableFields(type: GraphQLObjectType) {
  return Object.values(type.getFields()).filter((field) =>
    field.args.every((arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined),
  );
}

/** Every path of object-typed fields from `root`, a type at most once on each path (no cycles). */
function pathsFrom(rootField: string): WalkPath[] {
  const root = {
    field: rootField,
    type: getNamedType(schema.getQueryType()!.getFields()[rootField].type) as GraphQLObjectType,
  };
  const paths: WalkPath[] = [];
  const walk = (type: GraphQLObjectType, steps: Step[], seen: Set<string>) => {
    for (const field of selectableFields(type)) {
      const named = getNamedType(field.type);
      const targets = isObjectType(named)
        ? [{ type: named, on: undefined as string | undefined }]
        : isUnionType(named) || isInterfaceType(named)
          ? schema.getPossibleTypes(named).map((t) => ({ type: t, on: t.name }))
          : [];
      for (const target of targets) {
        const next = [...steps, { field: field.name, on: target.on }];
        paths.push({ root, steps: next, leaf: target.type });
        if (!seen.has(target.type.name)) walk(target.type, next, new Set([...seen, target.type.name]));
      }
    }
  };
  walk(root.type, [], new Set([root.type.name]));
  return paths;
}

/** `__typename` and `id` of each object on the way, every scalar of the last. */
function queryFor(path: WalkPath): string {
  const identity = (type: GraphQLObjectType) => `__typename${'id' in type.getFields() ? ' id' : ''}`;
  const leafScalars = selectableFields(path.leaf)
    .filter((field) => isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type)))
    .map((field) => field.name)
    .join(' ');
  let selection = `${identity(path.leaf)} ${leafScalars}`;
  for (let i = path.steps.length - 1; i >= 0; i--) {
    const step = path.steps[i];
    const inner = step.on ? `__typename ... on ${step.on} { ${selection} }` : selection;
    const parent = i === 0 ? path.root.type : typeAt(path, i - 1);
    selection = `${identity(parent)} ${step.field} { ${inner} }`;
  }
  return `query Walk($id: ID!) { ${path.root.field}(id: $id) { ${selection} } }`;
}

/** The object type the path has reached after step `index`. */
function typeAt(path: WalkPath, index: number): GraphQLObjectType {
  let type = path.root.type;
  for (const step of path.steps.slice(0, index + 1)) {
    type = (
      step.on ? schema.getType(step.on) : getNamedType(type.getFields()[step.field].type)
    ) as GraphQLObjectType;
  }
  return type;
}

/** Every object in an answer, by type and id (none for an object without one). */
function objectsIn(
  value: unknown,
  found: { typename: string; id?: string }[] = [],
): { typename: string; id?: string }[] {
  if (Array.isArray(value)) for (const item of value) objectsIn(item, found);
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.__typename === 'string')
      found.push({ typename: record.__typename, id: typeof record.id === 'string' ? record.id : undefined });
    for (const child of Object.values(record)) objectsIn(child, found);
  }
  return found;
}

/** Whether the path ends in at least one object in the answer: its resolver was really exercised. */
function reachesLeaf(data: unknown, path: WalkPath): boolean {
  let level: unknown[] = [data];
  for (const step of path.steps) {
    level = level.flatMap((value) => {
      const child = (value as Record<string, unknown> | null)?.[step.field];
      const items = Array.isArray(child) ? child : [child];
      return items.filter(
        (item) =>
          item &&
          typeof item === 'object' &&
          (!step.on || (item as { __typename?: string }).__typename === step.on),
      );
    });
  }
  return level.length > 0;
}

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
  const introspection = await prescriber.http.request<IntrospectionQuery>(getIntrospectionQuery());
  schema = buildClientSchema(introspection);
  ({ patientId, planId } = await patientWithEverything());
}, 60_000);
afterAll(() => server.close());

describe('the audit trail, walked from patient(id) and treatmentPlan(id) through every field the schema has', () => {
  it.each([
    ['patient', () => patientId],
    ['treatmentPlan', () => planId],
  ])(
    'has the reading request’s row for every object with an id on every path from %s(id)',
    async (root, id) => {
      const paths = pathsFrom(root);
      expect(paths.length).toBeGreaterThan(40);
      const unaudited = new Set<string>();
      const unexercised: string[] = [];
      const beyondLimits: string[] = [];
      let n = 0;
      for (const path of paths) {
        const requestId = `walk-${root}-${n++}`;
        const name = [root, ...path.steps.map((s) => (s.on ? `${s.field}<${s.on}>` : s.field))].join('.');
        const client = new GraphQLClient(`${server.url}/graphql`, {
          headers: { authorization: `Bearer ${prescriber.token}`, 'x-request-id': requestId },
        });
        let answer: unknown;
        try {
          answer = (await client.request<Record<string, unknown>>(queryFor(path), { id: id() }))[root];
        } catch (error) {
          // Refused for everyone by the operation limits (depth, cost): nothing can be read along it.
          if (
            error instanceof ClientError &&
            error.response.errors?.[0]?.extensions?.code === 'OPERATION_TOO_COMPLEX'
          ) {
            beyondLimits.push(name);
            continue;
          }
          throw error;
        }
        if (
          !NOT_PATIENT_DATA.has(path.leaf.name) &&
          !EMPTY_BY_DESIGN.some((p) => p.test(name)) &&
          !reachesLeaf(answer, path)
        )
          unexercised.push(name);
        const rows = await server.sql<{ entity: string; entity_id: string }>(
          'select entity, entity_id from audit_event where request_id = $1',
          [requestId],
        );
        const audited = new Set(rows.map((r) => `${r.entity}:${r.entity_id}`));
        for (const object of objectsIn(answer)) {
          if (object.id === undefined || NOT_PATIENT_DATA.has(object.typename)) continue;
          if (!audited.has(`${object.typename}:${object.id}`))
            unaudited.add(`${name}: ${object.typename} ${object.id}`);
        }
      }
      expect([...unaudited], 'objects read without an audit row').toEqual([]);
      // A path the fixture leaves empty proves nothing: give patientWithEverything what it needs.
      expect(unexercised, 'paths the fixture has no data for').toEqual([]);
      console.log(
        `audit walk from ${root}: ${paths.length} paths, ${beyondLimits.length} beyond the operation limits`,
      );
    },
    120_000,
  );
});

describe('mutations that answer with patient data', () => {
  it('audit acknowledging an alert that is already acknowledged as a read of it, since its message is returned', async () => {
    const { recordMeasure } = await therapist.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'PHQ9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 2] },
    });
    const alertId = recordMeasure.alerts[0].id;
    const as = (requestId: string) =>
      new GraphQLClient(`${server.url}/graphql`, {
        headers: { authorization: `Bearer ${prescriber.token}`, 'x-request-id': requestId },
      });
    const rowsOf = (requestId: string) =>
      server.sql<{ action: string; entity_id: string }>(
        'select action, entity_id from audit_event where request_id = $1 order by id',
        [requestId],
      );
    await as('ack-first').request(`mutation($id: ID!) { acknowledgeAlert(id: $id) { id message } }`, {
      id: alertId,
    });
    const again = await as('ack-again').request<{ acknowledgeAlert: { message: string } }>(
      `mutation($id: ID!) { acknowledgeAlert(id: $id) { id message } }`,
      { id: alertId },
    );
    expect(again.acknowledgeAlert.message).not.toBe('');
    expect(await rowsOf('ack-first')).toEqual([{ action: 'alert.acknowledge', entity_id: alertId }]);
    expect(await rowsOf('ack-again')).toEqual([{ action: 'alert.read', entity_id: alertId }]);
  });
});
