import {
  parse,
  validate,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { buildGraphQLSchema } from '../src/resolvers/schema';
import { operationCost, UNPAGED_LIST_ITEMS } from '../src/graphql/cost';
import { operationLimits } from '../src/graphql/limits';
import { MAX_AUDIT_PAGE_SIZE } from '../src/records/paging';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

/** The operation cost limit: what a front end asks for passes, a query that would read millions does not. */
let schema: GraphQLSchema;
let server: TestServer;
let prescriber: TestClinician;

beforeAll(async () => {
  schema = await buildGraphQLSchema();
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
});
afterAll(() => server.close());

function costOf(query: string): number {
  let cost = -1;
  const measure = (context: ValidationContext) => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      cost = operationCost(context, operation.selectionSet, schema.getRootType(operation.operation)!);
    },
  });
  expect(validate(schema, parse(query), [measure])).toEqual([]);
  return cost;
}

const dashboard = (
  first: string,
  measures: string,
) => `query ${first.startsWith('$') ? '($first: Int, $measures: Int)' : ''} { patients(first: ${first}) { edges { node { id firstName lastName status
  careTeam { role clinician { name } } latestMeasures { instrument totalScore severity administeredAt }
  measures(first: ${measures}) { edges { node { id instrument totalScore severity administeredAt } } } } } pageInfo { hasNextPage endCursor } } }`;

const MILLION = `{ patients(first: 100) { edges { node { measures(first: 100) { edges { node { patient { measures(first: 100) { edges { cursor } } } } } } } } } }`;

describe('operation cost', () => {
  it.each([
    ['an object and its scalar', '{ me { id } }', 2],
    ['an object: its fields', '{ me { id name role } }', 4],
    [
      'a page: its first, times each edge and node',
      '{ patients(first: 10) { edges { node { id } } } }',
      1 + 10 * 3,
    ],
    ['a page without first: the default (20)', '{ patients { edges { node { id } } } }', 1 + 20 * 3],
    [
      'a page from a variable: the largest (100)',
      'query ($n: Int) { patients(first: $n) { edges { cursor } } }',
      1 + 100 * 2,
    ],
    [
      'a backward page: its last, the default first not counted',
      '{ patient(id: "x") { measures(last: 3) { edges { cursor } } } }',
      1 + 1 + 3 * 2,
    ],
    [
      'a backward page from a variable: the largest (100)',
      'query ($n: Int) { patient(id: "x") { measures(last: $n) { edges { cursor } } } }',
      1 + 1 + 100 * 2,
    ],
    [
      "a page from a variable: that field's largest (the audit log's 500)",
      'query ($n: Int) { auditLog(first: $n) { edges { cursor } } }',
      1 + MAX_AUDIT_PAGE_SIZE * 2,
    ],
    ['the audit log as a literal', '{ auditLog(first: 500) { edges { cursor } } }', 1 + 500 * 2],
    [
      'a backward page of the audit log from a variable: its largest',
      'query ($n: Int) { auditLog(last: $n) { edges { cursor } } }',
      1 + MAX_AUDIT_PAGE_SIZE * 2,
    ],
    ['an unpaged list', '{ patient(id: "x") { careTeam { role } } }', 1 + UNPAGED_LIST_ITEMS * 2],
    [
      'fragments as if written out',
      '{ patients(first: 10) { edges { ...E } } } fragment E on PatientEdge { node { id } }',
      1 + 10 * 3,
    ],
    ['introspection: nothing', '{ __schema { types { name fields { name } } } }', 0],
  ])('%s', (_, query, cost) => {
    expect(costOf(query)).toBe(cost);
  });

  it('grows with the rows the answer would read', () => {
    expect(costOf(dashboard('100', '10'))).toBeLessThan(operationLimits.maxCost);
    // Variables count as the largest page, which validation cannot see past: 100 measures a patient.
    expect(costOf(dashboard('$first', '$measures'))).toBeLessThan(operationLimits.maxCost);
    expect(costOf(dashboard('100', '10'))).toBeLessThan(costOf(dashboard('100', '50')));
    expect(costOf(MILLION)).toBeGreaterThan(1_000_000);
    // A variable page of the audit log counts as the 500 rows the log would serve, as the literal does.
    const log = (first: string) =>
      `query ($n: Int) { auditLog(first: ${first}) { edges { node { id at action entity entityId clinician { id name } } } } }`;
    expect(costOf(log('$n'))).toBe(costOf(log('500')));
    expect(costOf(log('$n'))).toBeGreaterThan(costOf(log('100')));
  });

  it('admits the dashboard of 100 patients with care team, latest measures and 10 measures each, over HTTP and graphql-ws', async () => {
    const { patients } = await prescriber.http.request<{ patients: { edges: unknown[] } }>(
      dashboard('100', '10'),
    );
    expect(patients.edges).toEqual([]);
    const { patients: again } = await prescriber.http.request<{ patients: { edges: unknown[] } }>(
      dashboard('$first', '$measures'),
      { first: 100, measures: 10 },
    );
    expect(again.edges).toEqual([]);
    const client = server.ws(prescriber.token);
    const result = await new Promise<{ errors?: unknown }>((resolve, reject) => {
      client.subscribe(
        { query: dashboard('100', '10') },
        { next: resolve, error: reject, complete: () => undefined },
      );
    });
    expect(result.errors).toBeUndefined();
  });

  it('refuses a query that would read a million rows, with OPERATION_TOO_COMPLEX naming maxCost', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${prescriber.token}` },
      body: JSON.stringify({ query: MILLION }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: unknown }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({
      code: 'OPERATION_TOO_COMPLEX',
      limit: 'maxCost',
      value: operationLimits.maxCost,
    });
    expect(body.errors[0].message).toMatch(
      /^The answer may hold up to \d+ fields, over the limit of 100000: ask for smaller pages \(first\) or fewer nested lists$/,
    );
  });
});
