import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { operationLimits } from '../src/graphql/limits';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

let server: TestServer;
let prescriber: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
});
afterAll(() => server.close());

interface ErrorBody {
  errors: { message: string; extensions: Record<string, unknown> }[];
}

async function http(init: {
  method?: string;
  body?: string;
  search?: string;
  headers?: Record<string, string>;
}): Promise<{ status: number; errors: ErrorBody['errors'] }> {
  const response = await fetch(`${server.url}/graphql${init.search ?? ''}`, {
    method: init.method ?? 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${prescriber.token}`,
      ...init.headers,
    },
    body: init.body,
  });
  return { status: response.status, errors: ((await response.json()) as ErrorBody).errors };
}

const post = (body: unknown) => http({ body: JSON.stringify(body) });

/** The errors graphql-ws delivers for one operation. */
async function overWs(client: Client, query: string): Promise<ErrorBody['errors']> {
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query },
      {
        next: (result) => result.errors && resolve(result.errors as ErrorBody['errors']),
        error: (errors) => (Array.isArray(errors) ? resolve(errors) : reject(errors)),
        complete: () => undefined,
      },
    );
  });
}

/** Every measure of every patient's page carries 300 fields: 1,000 measures by default (src/graphql/cost.ts). */
const costly = `{ patients { edges { node { measures { edges { node { patient { ${'id '.repeat(300)} } } } } } } } }`;

describe('error codes', () => {
  it.each<[string, string, number, () => Promise<{ status: number; errors: ErrorBody['errors'] }>]>([
    ['a syntax error', 'GRAPHQL_PARSE_FAILED', 400, () => post({ query: '{ me {' })],
    ['an unknown field', 'GRAPHQL_VALIDATION_FAILED', 400, () => post({ query: '{ nope }' })],
    [
      'a persisted-query miss',
      'PERSISTED_QUERY_NOT_FOUND',
      200,
      () => post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    ],
    ['a batch', 'BAD_REQUEST', 400, () => post([{ query: '{ me { id } }' }, { query: '{ me { id } }' }])],
    ['malformed JSON', 'BAD_REQUEST', 400, () => http({ body: '{"query":' })],
    ['no query', 'BAD_REQUEST', 400, () => post({ variables: {} })],
    [
      'a GET that could be forged (CSRF)',
      'BAD_REQUEST',
      400,
      () =>
        http({
          method: 'GET',
          search: '?query=%7Bme%7Bid%7D%7D',
          headers: { 'content-type': 'text/plain', authorization: '' },
        }),
    ],
    [
      'a mutation over GET',
      'BAD_REQUEST',
      405,
      () =>
        http({
          method: 'GET',
          search: `?query=${encodeURIComponent('mutation { acknowledgeAlert(id: "x") { id } }')}`,
        }),
    ],
    [
      'a subscription over HTTP',
      'BAD_REQUEST',
      400,
      () => post({ query: 'subscription { scoreAlert { id } }' }),
    ],
    [
      'an unknown operation name',
      'OPERATION_RESOLUTION_FAILURE',
      400,
      () => post({ query: 'query A { me { id } }', operationName: 'B' }),
    ],
    [
      'a variable of the wrong type',
      'BAD_USER_INPUT',
      400,
      () =>
        post({
          query: 'query ($first: Int) { patients(first: $first) { edges { cursor } } }',
          variables: { first: 'ten' },
        }),
    ],
  ])('%s: %s (%i)', async (_what, code, httpStatus, send) => {
    const { errors, status } = await send();
    expect(errors[0].extensions.code, errors[0].message).toBe(code);
    expect(status).toBe(httpStatus);
  });

  it('answers an operation over a limit with OPERATION_TOO_COMPLEX, naming the limit and its value', async () => {
    const cases: [string, unknown, string][] = [
      ['cost', { query: costly }, 'maxCost'],
      ['depth', { query: `{ me ${'{ a '.repeat(12)}${'}'.repeat(12)} }` }, 'maxDepth'],
      [
        'aliases',
        { query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }` },
        'maxAliases',
      ],
      ['directives', { query: `{ me { id ${'@include(if: true) '.repeat(21)} } }` }, 'maxDirectives'],
      ['tokens', { query: `{ me { ${'id '.repeat(2100)} } }` }, 'maxTokens'],
    ];
    for (const [what, body, limit] of cases) {
      const { errors } = await post(body);
      const error = errors.find((e) => e.extensions.code === 'OPERATION_TOO_COMPLEX');
      expect(error, `${what}: ${JSON.stringify(errors)}`).toBeDefined();
      expect(error!.extensions).toEqual({
        code: 'OPERATION_TOO_COMPLEX',
        limit,
        value: operationLimits[limit as keyof typeof operationLimits],
      });
      expect(error!.message).not.toMatch(/^Syntax Error/);
    }
    const big = await http({
      body: JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(operationLimits.maxBodyBytes)}` }),
    });
    expect(big.status).toBe(413);
    expect(big.errors[0].extensions).toEqual({
      code: 'OPERATION_TOO_COMPLEX',
      limit: 'maxBodyBytes',
      value: operationLimits.maxBodyBytes,
    });
  });

  it('uses the same codes over graphql-ws', async () => {
    const client = server.ws(prescriber.token);
    expect((await overWs(client, '{ me {'))[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await overWs(client, '{ nope }'))[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await overWs(client, costly)).map((e) => e.extensions)).toContainEqual({
      code: 'OPERATION_TOO_COMPLEX',
      limit: 'maxCost',
      value: operationLimits.maxCost,
    });
    expect((await overWs(client, `{ me { ${'id '.repeat(2100)} } }`))[0].extensions).toEqual({
      code: 'OPERATION_TOO_COMPLEX',
      limit: 'maxTokens',
      value: operationLimits.maxTokens,
    });
  });

  it("lets Apollo Client's persisted-query link recover from a miss by its code", async () => {
    const sent: { hashOnly: boolean }[] = [];
    const client = new ApolloClient({
      link: new PersistedQueryLink({
        sha256: (query) => createHash('sha256').update(query).digest('hex'),
      }).concat(
        new HttpLink({
          uri: `${server.url}/graphql`,
          headers: { authorization: `Bearer ${prescriber.token}` },
          fetch: async (input, init) => {
            sent.push({ hashOnly: !String(init?.body ?? '').includes('"query"') });
            return fetch(input, init);
          },
        }),
      ),
      cache: new InMemoryCache(),
    });
    const ME = gql`
      query Me {
        me {
          id
          role
        }
      }
    `;
    expect((await client.query({ query: ME })).data).toMatchObject({ me: { role: 'PRESCRIBER' } });
    // The hash alone, refused with PERSISTED_QUERY_NOT_FOUND, then the query with its hash.
    expect(sent).toEqual([{ hashOnly: true }, { hashOnly: false }]);
    await client.query({ query: ME, fetchPolicy: 'network-only' });
    expect(sent.at(-1)).toEqual({ hashOnly: true });
  });
});
