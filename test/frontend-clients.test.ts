import { ApolloClient, HttpLink, InMemoryCache, gql, type TypedDocumentNode } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { CreatePatientDocument } from './generated/graphql';
import { browserFetch } from './support/browserFetch';
import { startTestServer, type TestClinician, type TestServer } from './support/server';

/** A Vite dev server's page: another origin than the API's. */
const PAGE = 'http://localhost:5173';

let server: TestServer;
let prescriber: TestClinician;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  for (const lastName of ['Ames', 'Bose', 'Cole']) {
    await prescriber.http.request(CreatePatientDocument, {
      input: { firstName: 'Pat', lastName, dateOfBirth: '1980-01-01' },
    });
  }
});
afterAll(() => server.close());

const preflight = (url: string, origin: string, headers = 'authorization,content-type') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
  });

interface PatientsPage {
  patients: {
    edges: { cursor: string; node: { id: string; lastName: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const PATIENTS: TypedDocumentNode<PatientsPage, { first?: number; after?: string | null }> = gql`
  query Patients($first: Int, $after: String) {
    patients(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          lastName
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

describe('CORS on /graphql', () => {
  it('answers a preflight from a development page with what GraphQL clients send, without credentials', async () => {
    for (const origin of [PAGE, 'http://127.0.0.1:3000', 'http://localhost']) {
      const response = await preflight(
        `${server.url}/graphql`,
        origin,
        'authorization,content-type,apollo-require-preflight,x-request-id',
      );
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'apollo-require-preflight', 'x-request-id']),
      );
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('vary')).toContain('Origin');
    }
  });

  it('admits no other origin', async () => {
    for (const origin of [
      'https://evil.example',
      'http://localhost.evil.example:5173',
      'null',
      'https://localhost:5173',
    ]) {
      const response = await preflight(`${server.url}/graphql`, origin);
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const page = browserFetch(origin);
      await expect(
        page.fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${prescriber.token}` },
          body: '{"query":"{ me { id } }"}',
        }),
      ).rejects.toThrow(/CORS/);
    }
  });

  it('admits nothing in production unless CORS_ORIGINS says so', async () => {
    const closed = await startTestServer({ production: true, databaseUrl: server.databaseUrl });
    const configured = await startTestServer({
      production: true,
      databaseUrl: server.databaseUrl,
      corsOrigins: ['https://care.example.org'],
    });
    try {
      expect((await preflight(`${closed.url}/graphql`, PAGE)).status).toBe(403);
      expect((await preflight(`${configured.url}/graphql`, PAGE)).status).toBe(403);
      const admitted = await preflight(`${configured.url}/graphql`, 'https://care.example.org');
      expect(admitted.status).toBe(204);
      expect(admitted.headers.get('access-control-allow-origin')).toBe('https://care.example.org');
    } finally {
      await closed.close();
      await configured.close();
    }
  });
});

describe('GraphQL clients in a page on another origin', () => {
  it('Apollo Client 4 with its defaults (POST), relayStylePagination and a readable x-request-id', async () => {
    const page = browserFetch(PAGE);
    let requestId: string | null = null;
    const client = new ApolloClient({
      link: new HttpLink({
        uri: `${server.url}/graphql`,
        headers: { authorization: `Bearer ${prescriber.token}` },
        fetch: async (input, init) => {
          const response = await page.fetch(input, init);
          requestId = response.headers.get('x-request-id');
          return response;
        },
      }),
      cache: new InMemoryCache({ typePolicies: { Query: { fields: { patients: relayStylePagination() } } } }),
    });
    const first = await client.query({ query: PATIENTS, variables: { first: 2 } });
    expect(first.data?.patients.edges.map((e) => e.node.lastName)).toEqual(['Ames', 'Bose']);
    await client.query({
      query: PATIENTS,
      variables: { first: 2, after: first.data?.patients.pageInfo.endCursor },
      fetchPolicy: 'network-only',
    });
    const merged = client.readQuery({ query: PATIENTS, variables: { first: 2 } });
    expect(merged?.patients.edges.map((e) => e.node.lastName)).toEqual(['Ames', 'Bose', 'Cole']);
    expect(page.preflights).toBeGreaterThan(0);
    expect(page.requests.every((r) => r.method === 'POST')).toBe(true);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('urql 6 with its defaults: queries as GET, mutations as POST', async () => {
    const page = browserFetch(PAGE);
    const client = new UrqlClient({
      url: `${server.url}/graphql`,
      exchanges: [fetchExchange],
      fetch: page.fetch,
      fetchOptions: { headers: { authorization: `Bearer ${prescriber.token}` } },
    });
    const result = await client.query(PATIENTS, { first: 5 }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.patients.edges).toHaveLength(3);
    const created = await client
      .mutation(
        gql`
          mutation ($input: CreatePatientInput!) {
            createPatient(input: $input) {
              id
            }
          }
        `,
        { input: { firstName: 'Uri', lastName: 'Urql', dateOfBirth: '1990-02-02' } },
      )
      .toPromise();
    expect(created.error).toBeUndefined();
    expect(page.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('a GET passes the CSRF check with the Authorization header or apollo-require-preflight, and is refused without', async () => {
    const page = browserFetch(PAGE);
    const query = `${server.url}/graphql?${new URLSearchParams({ query: '{ __typename }' })}`;
    // Without either, a GET is what a form or an <img> on any site could send: refused as CSRF.
    const bare = await page.fetch(query);
    expect(bare.status).toBe(400);
    expect(JSON.stringify(await bare.json())).toContain('Cross-Site Request Forgery');
    // With the header and no token, it passes the CSRF check and meets authentication.
    const anonymous = await page.fetch(query, { headers: { 'apollo-require-preflight': 'true' } });
    expect(anonymous.status).toBe(401);
    expect(
      ((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code,
    ).toBe('UNAUTHENTICATED');

    const client = new UrqlClient({
      url: `${server.url}/graphql`,
      exchanges: [fetchExchange],
      fetch: page.fetch,
      preferGetMethod: 'force',
      fetchOptions: {
        headers: { authorization: `Bearer ${prescriber.token}`, 'apollo-require-preflight': 'true' },
      },
    });
    const result = await client
      .query(
        gql`
          {
            me {
              role
            }
          }
        `,
        {},
      )
      .toPromise();
    expect(result.data).toEqual({ me: { role: 'PRESCRIBER' } });
    expect(page.requests.at(-1)?.method).toBe('GET');
  });

  it('no answer is kept by a browser or a proxy: every /graphql response says no-store', async () => {
    const auth = { authorization: `Bearer ${prescriber.token}`, 'apollo-require-preflight': 'true' };
    const patients = '{ patients(first: 3) { edges { node { lastName } } } }';
    const responses = [
      // A page of patients over POST and over GET, an unauthenticated request and a malformed body.
      await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query: patients }),
      }),
      await fetch(`${server.url}/graphql?${new URLSearchParams({ query: patients })}`, { headers: auth }),
      await fetch(`${server.url}/graphql?${new URLSearchParams({ query: patients })}`, {
        headers: { 'apollo-require-preflight': 'true' },
      }),
      await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{',
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 400]);
    expect(JSON.stringify(await responses[1].json())).toContain('Ames');
    for (const response of responses) expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
