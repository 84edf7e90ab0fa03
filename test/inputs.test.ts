import fc from 'fast-check';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { GraphQLClient } from 'graphql-request';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Role } from '../src/domain/roles';
import { FREE_TEXT_INPUTS } from '../src/schema/textInputs';
import {
  CreatePatientDocument,
  MeDocument,
  RecordMeasureDocument,
  ScheduleSessionDocument,
  CreateTreatmentPlanDocument,
} from './generated/graphql';
import { expectCode, graphqlError } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { DAY, fromNow } from './support/time';

let server: TestServer;
let prescriber: TestClinician;
let schema: GraphQLSchema;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  schema = buildClientSchema(await prescriber.http.request<IntrospectionQuery>(getIntrospectionQuery()));
});
afterAll(() => server.close());

/** One String or ID input somewhere in an operation's arguments. */
interface TextInput {
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** The argument, then input fields and list positions, as the server names it: `input.cautions[0]`. */
  path: (string | number)[];
  coordinate: string;
}

/** Every text input of every query and mutation, found in the served schema. */
function textInputs(): TextInput[] {
  const found: TextInput[] = [];
  const visit = (
    base: Omit<TextInput, 'path' | 'coordinate'>,
    type: GraphQLInputType,
    path: (string | number)[],
    coordinate: string,
    seen: Set<string>,
  ) => {
    const named = getNamedType(type);
    if (isListType(isNonNullType(type) ? type.ofType : type)) path = [...path, 0];
    if (named.name === 'String' || named.name === 'ID') found.push({ ...base, path, coordinate });
    else if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const field of Object.values(named.getFields()))
        visit(
          base,
          field.type,
          [...path, field.name],
          `${named.name}.${field.name}`,
          new Set([...seen, named.name]),
        );
    }
  };
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    for (const field of Object.values((root as GraphQLObjectType).getFields())) {
      for (const arg of field.args)
        visit(
          { operation, field },
          arg.type,
          [arg.name],
          `${root!.name}.${field.name}(${arg.name}:)`,
          new Set(),
        );
    }
  }
  return found;
}

/**
 * A value of `type` that passes GraphQL's coercion, with `text` at `path` (relative to it; no path:
 * a placeholder throughout).
 */
function valueOf(type: GraphQLInputType, path: (string | number)[] | undefined, text: string): unknown {
  if (isNonNullType(type)) return valueOf(type.ofType, path, text);
  if (isListType(type)) return path === undefined ? [] : [valueOf(type.ofType, path.slice(1), text)];
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      const onPath = path?.[0] === field.name;
      if (onPath || (isNonNullType(field.type) && field.defaultValue === undefined))
        value[field.name] = valueOf(field.type, onPath ? path!.slice(1) : undefined, text);
    }
    return value;
  }
  if (path !== undefined) return text;
  if (isEnumType(type)) return type.getValues()[0].value;
  const placeholders: Record<string, unknown> = {
    ID: randomUUID(),
    String: 'x',
    Int: 1,
    Float: 1,
    Boolean: true,
    Date: '2000-01-01',
    DateTime: new Date().toISOString(),
  };
  return placeholders[type.name];
}

/** The operation reaching `input`, with `text` there and placeholders in every other required argument. */
function operationFor(input: TextInput, text: string) {
  const args = input.field.args.filter(
    (arg) => arg.name === input.path[0] || (isNonNullType(arg.type) && arg.defaultValue === undefined),
  );
  const variables = Object.fromEntries(
    args.map((arg) => [
      arg.name,
      valueOf(arg.type, arg.name === input.path[0] ? input.path.slice(1) : undefined, text),
    ]),
  );
  const selection = isLeafType(getNamedType(input.field.type)) ? '' : '{ __typename }';
  const query = `${input.operation} Probe(${args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')}) { ${input.field.name}(${args.map((a) => `${a.name}: $${a.name}`).join(', ')}) ${selection} }`;
  return { query, variables };
}

const named = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** Characters no text input takes; line breaks and tabs are refused only where text is one line. */
const alwaysRefused = [
  ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).filter((c) => !'\t\n\r'.includes(c)),
  '\u007f',
  '\u0085',
  '\u009b',
  '\ud800',
  '\udfff',
];
const lineBreaks = ['\t', '\n', '\r'];
const clean = fc.string({
  unit: fc.constantFrom('a', 'Z', 'é', '中', '😀', ' ', '-', "'", '.', '@'),
  maxLength: 12,
});

describe('text inputs', () => {
  it('finds every text input the schema has, and each free-form one it names', () => {
    const inputs = textInputs();
    expect(inputs.length).toBeGreaterThan(20);
    const coordinates = new Set(inputs.map((i) => i.coordinate));
    for (const coordinate of FREE_TEXT_INPUTS) expect(coordinates, coordinate).toContain(coordinate);
  });

  it('refuse a control character in any of them with BAD_USER_INPUT naming the input, and nothing is written (property)', async () => {
    const inputs = textInputs();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...inputs),
        clean,
        clean,
        fc.nat(),
        async (input, before, after, pick) => {
          const freeText = FREE_TEXT_INPUTS.has(input.coordinate);
          const pool = freeText ? alwaysRefused : [...alwaysRefused, ...lineBreaks];
          const hostile = `${before}${pool[pick % pool.length]}${after}`;
          const requestId = `text-${n++}`;
          const client = new GraphQLClient(`${server.url}/graphql`, {
            headers: { authorization: `Bearer ${prescriber.token}`, 'x-request-id': requestId },
          });
          const { query, variables } = operationFor(input, hostile);
          const error = await graphqlError(client.request(query, variables));
          expect(error.code, `${input.coordinate}: ${error.message}`).toBe('BAD_USER_INPUT');
          expect(error.message.startsWith(`${named(input.path)} contains`), error.message).toBe(true);
          expect(await server.sql('select 1 from audit_event where request_id = $1', [requestId])).toEqual(
            [],
          );
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  it('pass clean text, and line breaks and tabs where text is free-form, on to the field (property)', async () => {
    const inputs = textInputs();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...inputs),
        clean,
        fc.constantFrom(...lineBreaks),
        clean,
        async (input, before, lineBreak, after) => {
          const freeText = FREE_TEXT_INPUTS.has(input.coordinate);
          const text = freeText ? `${before}${lineBreak}${after}` : `${before}${after}`;
          const { query, variables } = operationFor(input, text);
          const result = await prescriber.http.request(query, variables).then(
            () => undefined,
            (error: { response?: { errors?: { message: string }[] } }) =>
              error.response?.errors?.[0]?.message ?? String(error),
          );
          // Whatever the field then says about placeholder ids, it is not the text guard.
          expect(result ?? '', input.coordinate).not.toMatch(
            /contains (the control character|an unpaired surrogate)/,
          );
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it('refuse NUL in a patient’s name and in a note, which reached PostgreSQL as an internal error', async () => {
    const message = await expectCode(
      prescriber.http.request(CreatePatientDocument, {
        input: { firstName: 'Ro\u0000bin', lastName: 'Nul', dateOfBirth: '1980-01-01' },
      }),
      'BAD_USER_INPUT',
    );
    expect(message).toBe(
      'input.firstName contains the control character U+0000 at position 2; text takes no control characters',
    );
    const therapist = await server.clinician(Role.THERAPIST);
    const note = await graphqlError(
      therapist.http.request(
        'mutation ($id: ID!) { writePsychotherapyNote(sessionId: $id, text: "a\\u0000b") { id } }',
        { id: randomUUID() },
      ),
    );
    expect(note).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/^text contains the control character U\+0000/),
    });
  });

  it('refuse a control character in a subscription’s arguments over graphql-ws', async () => {
    const errors = await new Promise<unknown>((resolve) => {
      server
        .ws(prescriber.token)
        .subscribe(
          { query: 'subscription ($p: ID) { scoreAlert(patientId: $p) { id } }', variables: { p: '\u0000' } },
          { next: (r) => resolve(r.errors), error: resolve, complete: () => resolve([]) },
        );
    });
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^patientId contains the control character U\+0000/),
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});

describe('a token’s claims', () => {
  const withName = (name: string) =>
    server.tokens.sign!(
      { sub: `claims-${randomUUID()}`, email: 'claims@clinic.example', name, role: Role.THERAPIST },
      600,
    );

  it('refuse a NUL in the name claim as UNAUTHENTICATED over HTTP, naming the claim', async () => {
    const token = await withName('Dana\u0000');
    const client = new GraphQLClient(`${server.url}/graphql`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const error = await graphqlError(client.request(MeDocument));
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    expect(error.message).toMatch(/^The token's name claim contains the control character U\+0000/);
  });

  it('close the collab upgrade with 4401 instead of an internal error', async () => {
    const token = await withName('Dana\u0000');
    const logged = server.logs.length;
    const code = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/collab/${randomUUID()}?token=${token}`);
      ws.on('close', (closeCode) => resolve(closeCode));
      ws.on('error', reject);
    });
    expect(code).toBe(4401);
    expect(server.logs.slice(logged).join('')).not.toMatch(/collab upgrade failed|unexpected/);
  });
});

describe('times', () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = (
      await prescriber.http.request(CreatePatientDocument, {
        input: { firstName: 'Tem', lastName: 'Poral', dateOfBirth: '1984-04-04' },
      })
    ).createPatient.id;
  });
  const measureAt = (administeredAt: string) =>
    prescriber.http.request(RecordMeasureDocument, {
      input: { patientId, instrument: 'GAD7', responses: [1, 1, 1, 1, 1, 1, 1], administeredAt },
    });

  it('refuse impossible instants, which Date rolled over (31 February became 3 March)', async () => {
    for (const instant of [
      '2026-02-31T10:00:00Z',
      '2025-02-29T10:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T10:60:00Z',
      '2026-01-01T10:00:00+24:00',
    ]) {
      expect(await expectCode(measureAt(instant), 'BAD_USER_INPUT'), instant).toMatch(/not a real instant/);
    }
    await measureAt('2024-02-29T10:00:00+05:30');
  });

  it('refuse a measure before 1900, before the patient was born, or in the future; the baseline stays real', async () => {
    expect(await expectCode(measureAt('1900-01-01T00:00:00Z'), 'BAD_USER_INPUT')).toBe(
      "administeredAt cannot be before the patient's date of birth",
    );
    expect(await expectCode(measureAt('1899-12-31T23:00:00Z'), 'BAD_USER_INPUT')).toBe(
      'administeredAt cannot be before 1900-01-01',
    );
    expect(await expectCode(measureAt(fromNow(DAY).toISOString()), 'BAD_USER_INPUT')).toBe(
      'administeredAt cannot be in the future',
    );
    const rows = await server.sql<{ administered_at: Date }>(
      'select administered_at from measure where patient_id = $1',
      [patientId],
    );
    expect(rows.every((r) => r.administered_at >= new Date('1984-04-04T00:00:00Z'))).toBe(true);
  });

  it('refuse a session scheduled before 1900 or more than two years ahead', async () => {
    const { createTreatmentPlan } = await prescriber.http.request(CreateTreatmentPlanDocument, {
      input: { patientId, protocol: 'SEQUENTIAL', route: 'IV', plannedDosingSessions: 6 },
    });
    const schedule = (at: string) =>
      prescriber.http.request(ScheduleSessionDocument, {
        input: { planId: createTreatmentPlan.id, kind: 'PREPARATION', scheduledAt: at },
      });
    expect(await expectCode(schedule('1899-05-05T10:00:00Z'), 'BAD_USER_INPUT')).toBe(
      'scheduledAt cannot be before 1900-01-01',
    );
    expect(await expectCode(schedule(fromNow(3 * 366 * DAY).toISOString()), 'BAD_USER_INPUT')).toBe(
      'scheduledAt must be within two years from now',
    );
    await schedule(fromNow(7 * DAY).toISOString());
  });
});

describe('production', () => {
  let production: TestServer;
  let clinician: TestClinician;
  beforeAll(async () => {
    production = await startTestServer({ production: true });
    clinician = await production.clinician(Role.PRESCRIBER);
  });
  afterAll(() => production.close());

  it('hides suggestions in variables’ coercion errors too, over HTTP and graphql-ws', async () => {
    const query = 'query ($status: PatientStatus) { patients(status: $status) { edges { node { id } } } }';
    const http = await graphqlError(clinician.http.request(query, { status: 'ACTIV' }));
    expect(http.code).toBe('BAD_USER_INPUT');
    expect(http.message).toContain('ACTIV');
    expect(http.message).not.toMatch(/did you mean/i);
    const ws = await new Promise<{ message: string }[]>((resolve) => {
      production.ws(clinician.token).subscribe(
        { query, variables: { status: 'ACTIV' } },
        {
          next: (r) => resolve((r.errors ?? []) as never),
          error: (e) => resolve(e as never),
          complete: () => resolve([]),
        },
      );
    });
    expect(ws.length).toBeGreaterThan(0);
    for (const error of ws) expect(error.message).not.toMatch(/did you mean/i);
  });
});
