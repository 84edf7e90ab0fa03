import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLClient } from 'graphql-request';
import { createTokenService } from '../src/auth/tokens';
import { Role } from '../src/domain/roles';
import { MeDocument } from './generated/graphql';
import { graphqlError } from './support/expect';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server';

const AUDIENCE = 'kap-care-graph';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ audience: AUDIENCE });
});
afterAll(() => server.close());

const claims = { email: 'dana@clinic.example', name: 'Dana', role: 'prescriber' };
const now = () => Math.floor(Date.now() / 1000);

function hs256(
  payload: Record<string, unknown>,
  options: { secret?: string; exp?: number; aud?: string | null; sub?: string } = {},
) {
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.sub ?? 'user-1')
    .setExpirationTime(options.exp ?? now() + 600);
  if (options.aud !== null) jwt = jwt.setAudience(options.aud ?? AUDIENCE);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

const asHttp = (authorization: string | undefined) =>
  new GraphQLClient(`${server.url}/graphql`, {
    headers: authorization === undefined ? {} : { authorization },
  }).request(MeDocument);

describe('bearer tokens over HTTP', () => {
  it('accepts a valid token and provisions the clinician from its claims', async () => {
    const { me } = await asHttp(`Bearer ${await hs256(claims, { sub: 'jit-1' })}`);
    expect(me).toMatchObject({ name: 'Dana', email: 'dana@clinic.example', role: 'PRESCRIBER' });
    // Claims that change at the identity provider update the same record (keyed by sub).
    const renamed = await asHttp(
      `Bearer ${await hs256({ ...claims, name: 'Dr. Dana', role: 'therapist' }, { sub: 'jit-1' })}`,
    );
    expect(renamed.me).toMatchObject({ id: me.id, name: 'Dr. Dana', role: 'THERAPIST' });
  });

  it('reads the clinician once for the same claims, and again when a claim changes', async () => {
    const bySub = () => server.queries.filter((sql) => /from "?clinician"?.* where .*"?sub"? = /i.test(sql));
    // First sight writes the row; the next request reads it and remembers it.
    const token = `Bearer ${await hs256(claims, { sub: 'memo' })}`;
    await asHttp(token);
    const first = await asHttp(token);
    server.queries.length = 0;
    // The same claims again, in another token (a refresh): answered without reading the clinician.
    const again = await asHttp(`Bearer ${await hs256(claims, { sub: 'memo', exp: now() + 900 })}`);
    expect(again.me).toEqual(first.me);
    expect(bySub()).toEqual([]);
    // Other claims for the same subject are read and written as on first sight.
    const renamed = await asHttp(`Bearer ${await hs256({ ...claims, name: 'Dr. Dana' }, { sub: 'memo' })}`);
    expect(renamed.me).toMatchObject({ id: first.me.id, name: 'Dr. Dana' });
    expect(bySub()).toHaveLength(1);
    const [row] = await server.sql<{ name: string }>(`select name from clinician where sub = 'memo'`);
    expect(row.name).toBe('Dr. Dana');
  });

  it("provisions one record when a new user's first requests race", async () => {
    const token = `Bearer ${await hs256(claims, { sub: 'racer' })}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => asHttp(token)));
    expect(new Set(results.map((r) => r.me.id)).size).toBe(1);
  });

  it.each<[string, () => Promise<string | undefined>]>([
    ['a missing header', async () => undefined],
    ['a header without Bearer', async () => hs256(claims)],
    ['a malformed token', async () => 'Bearer not.a.jwt!'],
    ['an expired token', async () => `Bearer ${await hs256(claims, { exp: now() - 10 })}`],
    [
      'a forged signature',
      async () => `Bearer ${await hs256(claims, { secret: 'another-secret-another-secret-another!' })}`,
    ],
    ['a wrong audience', async () => `Bearer ${await hs256(claims, { aud: 'someone-else' })}`],
    ['no audience', async () => `Bearer ${await hs256(claims, { aud: null })}`],
    [
      'alg: none',
      async () =>
        `Bearer ${new UnsecuredJWT({ ...claims, aud: AUDIENCE }).setSubject('x').setExpirationTime('1h').encode()}`,
    ],
    ['an unknown role', async () => `Bearer ${await hs256({ ...claims, role: 'superuser' })}`],
    ['no email', async () => `Bearer ${await hs256({ name: 'x', role: 'therapist' })}`],
  ])('refuses %s with UNAUTHENTICATED and 401', async (_, header) => {
    const error = await graphqlError(asHttp(await header()));
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('refuses a token it accepted before once the token has expired, and a forged one each time', async () => {
    const exp = now() + 2;
    const token = await hs256(claims, { sub: 'expiring', exp });
    expect((await asHttp(`Bearer ${token}`)).me).toMatchObject({ name: 'Dana' });
    // A token checked once is remembered, but never past its own expiry.
    while (Date.now() < exp * 1000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await graphqlError(asHttp(`Bearer ${token}`))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'The token has expired',
    });
    const forged = await hs256(claims, {
      sub: 'expiring',
      secret: 'another-secret-that-is-long-enough-for-hs256',
    });
    for (let i = 0; i < 2; i++)
      expect(await graphqlError(asHttp(`Bearer ${forged}`))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('no-exp')
      .setAudience(AUDIENCE)
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect(await graphqlError(asHttp(`Bearer ${token}`))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('bearer tokens over graphql-ws', () => {
  it('closes a connection whose connection_init carries no valid token with 4401', async () => {
    const forged = await hs256(claims, { secret: 'another-secret-another-secret-another!' });
    for (const token of [undefined, forged]) {
      const closed = new Promise<number>((resolve) => {
        const client = server.ws(token, {
          on: { closed: (event) => resolve((event as { code: number }).code) },
        });
        client.subscribe({ query: '{ me { id } }' }, { next: () => {}, error: () => {}, complete: () => {} });
      });
      expect(await closed).toBe(4401);
    }
  });

  it('serves operations to a valid token, then closes the socket with 4401 when the token expires', async () => {
    const exp = now() + 2;
    const shortLived = await hs256(claims, { sub: 'ws-user', exp });
    let closedAt = 0;
    const closed = new Promise<number>((resolve) => {
      // Kept open between operations: only the token's expiry closes it.
      const client = server.ws(shortLived, {
        lazyCloseTimeout: 60_000,
        on: {
          closed: (event) => {
            closedAt = Date.now();
            resolve((event as { code: number }).code);
          },
        },
      });
      client.subscribe(
        { query: '{ me { name } }' },
        {
          next: (value) => expect(value).toEqual({ data: { me: { name: 'Dana' } } }),
          error: () => {},
          complete: () => {},
        },
      );
    });
    expect(await closed).toBe(4401);
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000);
  });
});

describe('tokens from an identity provider (JWKS)', () => {
  let jwks: Server;
  let jwksUrl: URL;
  const keys = generateKeyPair('RS256');

  beforeAll(async () => {
    const { publicKey } = await keys;
    const body = JSON.stringify({
      keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
    });
    jwks = createServer((_, res) => res.setHeader('content-type', 'application/json').end(body));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address();
    jwksUrl = new URL(
      `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`,
    );
  });
  afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

  it('verifies RS256 tokens against the published keys, with issuer and audience', async () => {
    const service = await createTokenService(
      { kind: 'jwks', jwksUrl, issuer: 'https://idp.example', audience: AUDIENCE },
      '/none',
    );
    const { privateKey } = await keys;
    const sign = (issuer: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('idp-user')
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(privateKey);
    await expect(service.verify(await sign('https://idp.example'))).resolves.toMatchObject({
      sub: 'idp-user',
      role: Role.PRESCRIBER,
    });
    await expect(service.verify(await sign('https://evil.example'))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    // An HS256 token "signed" with the public key must not pass as RS256 (algorithm confusion).
    await expect(service.verify(await hs256(claims))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(service.sign).toBeUndefined();
  });
});
