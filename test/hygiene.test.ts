import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import {
  ManyAliasesDocument,
  MeDocument,
  PatientsDocument,
  PatientsWithCareTeamsDocument,
} from './generated/graphql';
import { patientWithTeam } from './support/careTeam';
import { expectCode, graphqlError } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

let server: TestServer;
let prescriber: TestClinician;
let therapist: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  therapist = await server.clinician(Role.THERAPIST);
  await therapist.http.request(MeDocument);
});
afterAll(() => server.close());

// Response bodies are read loosely: these tests look at error shapes the generated types do not cover.
type Json = any;

const post = (body: string, token = prescriber.token) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });

/** Runs one operation over graphql-ws and returns its errors (or none). */
function overWs(
  token: string,
  query: string,
): Promise<readonly { message: string; extensions?: Record<string, unknown> }[]> {
  const client = server.ws(token);
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (r) => r.errors && resolve(r.errors),
        error: (e) => resolve(e as never),
        complete: () => resolve([]),
      },
    );
  });
}

describe('SQL per page', () => {
  it('loads a page of patients with care teams and clinicians in 1 data statement, whatever its size', async () => {
    for (let i = 0; i < 50; i++) {
      await patientWithTeam(prescriber, therapist, {
        firstName: `N${i}`,
        lastName: 'Count',
        dateOfBirth: '1980-01-01',
      });
    }
    const statementsFor = async (first: number) => {
      server.queries.length = 0;
      const { patients } = await prescriber.http.request(PatientsWithCareTeamsDocument, { first });
      expect(patients.edges).toHaveLength(first);
      expect(patients.edges.every((e) => e.node.careTeam.length === 2)).toBe(true);
      return [...server.queries];
    };
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    const data = large.filter(
      // The caller by token subject, as the ORM or src/auth/provision.ts words it.
      (sql) =>
        /^(select|with)\b/i.test(sql) && !/from "?clinician"?( as "c0")? where ("c0"\.)?"?sub"?/.test(sql),
    );
    // The page of patients with their care teams and the members' clinicians, read ahead in the
    // page's own statement.
    expect(data, data.join('\n')).toHaveLength(1);
    // Besides: one INSERT of the page's audit rows. The caller, read by token subject when first seen,
    // is remembered for the same claims: no statement for it on these later requests.
    expect(large).toHaveLength(2);
    expect(small.length).toBe(large.length);
  });
});

describe('operation limits, on HTTP and on graphql-ws', () => {
  const deep = `{ me ${'{ a '.repeat(12)}${'}'.repeat(12)} }`;
  const manyTokens = `{ me { ${'id '.repeat(2100)} } }`;

  it('refuses too many aliases', async () => {
    const message = await expectCode(prescriber.http.request(ManyAliasesDocument), 'OPERATION_TOO_COMPLEX');
    expect(message).toMatch(/aliases/i);
    const errors = await overWs(
      prescriber.token,
      '{ ' + Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ') + ' }',
    );
    expect(errors[0]).toMatchObject({
      extensions: { code: 'OPERATION_TOO_COMPLEX', limit: 'maxAliases', value: 15 },
    });
    expect(errors.map((e) => e.message).join()).toMatch(/aliases/i);
  });

  it('refuses too deep a query', async () => {
    const body = (await (await post(JSON.stringify({ query: deep }))).json()) as Json;
    expect(body.errors.map((e: { message: string }) => e.message).join()).toMatch(/depth/i);
    expect(body.errors[0].extensions).toEqual({
      code: 'OPERATION_TOO_COMPLEX',
      limit: 'maxDepth',
      value: 10,
    });
    expect((await overWs(prescriber.token, deep)).map((e) => e.message).join()).toMatch(/depth/i);
  });

  it('refuses too many tokens before parsing further', async () => {
    const body = (await (await post(JSON.stringify({ query: manyTokens }))).json()) as Json;
    expect(body.errors[0]).toMatchObject({
      extensions: { code: 'OPERATION_TOO_COMPLEX', limit: 'maxTokens', value: 2000 },
    });
    expect(body.errors[0].message).toMatch(/token/i);
    const errors = await overWs(prescriber.token, manyTokens);
    expect(errors[0]).toMatchObject({
      extensions: { code: 'OPERATION_TOO_COMPLEX', limit: 'maxTokens', value: 2000 },
    });
    expect(errors[0].message).toMatch(/token/i);
  });
});

describe('bad requests', () => {
  it('answers malformed JSON with BAD_REQUEST and 400', async () => {
    const response = await post('{"query": "{ me { id } }"');
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('answers wrong variable types with BAD_USER_INPUT and writes nothing', async () => {
    const before = await server.sql('select count(*) from patient');
    const body = (await (
      await post(
        JSON.stringify({
          query: 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
          variables: { input: { firstName: 'Wrong', lastName: 'Types', dateOfBirth: 19800101 } },
        }),
      )
    ).json()) as Json;
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    await expectCode(
      prescriber.http.request(PatientsDocument, { first: 'ten' as unknown as number }),
      'BAD_USER_INPUT',
    );
    expect(await server.sql('select count(*) from patient')).toEqual(before);
  });
});

describe('production', () => {
  let production: TestServer;
  let clinician: TestClinician;
  beforeAll(async () => {
    production = await startTestServer({ production: true });
    clinician = await production.clinician(Role.THERAPIST);
  });
  afterAll(() => production.close());

  it('has no introspection, no field suggestions and no stack traces', async () => {
    const introspection = await graphqlError(clinician.http.request('{ __schema { types { name } } }'));
    expect(introspection.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typo = (await (
      await fetch(`${production.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clinician.token}` },
        body: JSON.stringify({ query: '{ mee { id } }' }),
      })
    ).json()) as Json;
    expect(typo.errors[0].message).not.toMatch(/did you mean/i);
    expect(JSON.stringify(typo)).not.toMatch(/stacktrace|at .*\.js/);
    const wsErrors = await new Promise<readonly { message: string }[]>((resolve) => {
      production
        .ws(clinician.token)
        .subscribe(
          { query: '{ __schema { types { name } } }' },
          { next: () => {}, error: (e) => resolve(e as never), complete: () => resolve([]) },
        );
    });
    expect(wsErrors.length).toBeGreaterThan(0);
  });

  it('serves no landing page', async () => {
    const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/<html/i);
  });
});

describe('operations endpoints and logs', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    await prescriber.http.request(MeDocument);
    const client = server.ws(prescriber.token, { lazy: false });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/kap_http_requests_total\{route="graphql",operation="Me",status="200"\} \d+/);
    expect(metrics).toMatch(
      /kap_http_request_duration_seconds_bucket\{le="0.1",route="graphql",operation="Me"\}/,
    );
    expect(metrics).toMatch(/kap_open_websockets\{endpoint="graphql"\} [1-9]/);
    expect(metrics).toMatch(/kap_db_pool_connections\{state="used"\} \d+/);
  });

  it("logs requests with their id but never a patient's name or date of birth", async () => {
    const marker = `Zz${randomUUID().slice(0, 8)}`;
    const requestId = `log-${randomUUID()}`;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${prescriber.token}`,
        'x-request-id': requestId,
      },
      body: JSON.stringify({
        query:
          'mutation Create($input: CreatePatientInput!) { createPatient(input: $input) { id firstName } }',
        variables: { input: { firstName: marker, lastName: `${marker}Last`, dateOfBirth: '1961-09-17' } },
      }),
    });
    expect(((await response.json()) as Json).data.createPatient.firstName).toBe(marker);
    // A failing one too: the bad date must not reach the logs through an error message.
    await post(
      JSON.stringify({
        query: `mutation { createPatient(input: { firstName: "${marker}", lastName: "x", dateOfBirth: "1961-02-30" }) { id } }`,
      }),
    );
    const logs = server.logs.join('');
    expect(logs).toContain(requestId);
    expect(logs).not.toContain(marker);
    expect(logs).not.toContain('1961-09-17');
    expect(logs).not.toContain('1961-02-30');
  });
});
