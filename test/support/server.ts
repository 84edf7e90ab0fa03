import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { GraphQLClient } from 'graphql-request';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../../src/app';
import { createTokenService, type TokenService } from '../../src/auth/tokens';
import { demoTokenIssuer, type DemoClinician } from '../../src/auth/demoTokens';
import { DEVELOPMENT_CORS_ORIGINS } from '../../src/config/config';
import { openOrm, type Orm } from '../../src/db/orm';
import type { SocketLimits } from '../../src/config/config';
import { DEFAULT_LOAD, type DosingSettings, type LoadSettings } from '../../src/config/config';
import { Role } from '../../src/domain/roles';
import { createLogger } from '../../src/logger';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export interface TestClinician {
  sub: string;
  email: string;
  name: string;
  role: Role;
  token: string;
  /** graphql-request over real HTTP, as this clinician. */
  http: GraphQLClient;
}

export interface TestServer {
  app: RunningApp;
  url: string;
  databaseUrl: string;
  orm: Orm;
  tokens: TokenService;
  /** Every SQL statement the ORM sent, in order. */
  queries: string[];
  /** The same with the parameters each was sent with (`?` placeholders), to run one again (`replay`). */
  sent: { sql: string; params: readonly unknown[] }[];
  /** Every log line the server wrote, as text. */
  logs: string[];
  clinician(
    role?: Role,
    overrides?: Partial<Pick<TestClinician, 'sub' | 'email' | 'name'>>,
  ): Promise<TestClinician>;
  /** A graphql-ws client over a real socket; closed by `close()`. */
  ws(token: string | undefined, options?: Partial<Parameters<typeof createClient>[0]>): Client;
  /** Runs SQL directly, outside the application. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** A fresh database of its own, migrated; created on the run's PostgreSQL. */
export async function createTestDatabase(): Promise<string> {
  const admin = inject('adminDatabaseUrl');
  const name = `kap_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startTestServer(
  options: {
    databaseUrl?: string;
    production?: boolean;
    audience?: string;
    compactAfter?: number;
    sockets?: SocketLimits;
    /** CORS_ORIGINS; the default is the development default, or none with `production`. */
    corsOrigins?: readonly string[];
    /** What the clinic sets for dosing sessions (default: racemic ketamine monitored at least 60 minutes). */
    dosing?: DosingSettings;
    /** Serve `/dev/demo-tokens` for these clinicians, as `npm start` does after seeding. */
    demoClinicians?: readonly DemoClinician[];
    /** Serve the built care board from here (the global setup builds it into dist/web). */
    webAppDir?: string;
    /**
     * Delivery connections and request admission. By default requests wait their turn as long as a
     * test waits for anything: a burst of concurrent requests on a loaded machine is not refused
     * unless the test is about refusing it (test/overload.test.ts), nor a write while delivery is
     * behind.
     */
    load?: LoadSettings;
  } = {},
): Promise<TestServer> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const queries: string[] = [];
  const sent: TestServer['sent'] = [];
  const logs: string[] = [];
  const orm = await openOrm(databaseUrl, {
    onQuery: (sql, params) => {
      queries.push(sql);
      sent.push({ sql, params });
    },
  });
  const tokens = await createTokenService(
    { kind: 'secret', secret: TEST_SECRET, audience: options.audience },
    '/nonexistent',
  );
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  const app = await startApp({
    config: {
      production: options.production ?? false,
      host: '127.0.0.1',
      port: 0,
      sockets: options.sockets,
      corsOrigins: options.corsOrigins ?? (options.production ? [] : DEVELOPMENT_CORS_ORIGINS),
      dosing: options.dosing,
      load: options.load ?? {
        ...DEFAULT_LOAD,
        maxQueuedRequests: 100_000,
        maxQueueWaitMs: 60_000,
        maxDeliveryDelayMs: 600_000,
        maxDeliveryBacklog: 1_000_000,
      },
    },
    orm,
    tokens,
    logger,
    compactAfter: options.compactAfter,
    demoTokens: options.demoClinicians && demoTokenIssuer(tokens.sign!, options.demoClinicians),
    webAppDir: options.webAppDir,
  });
  const sockets: Client[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });

  return {
    app,
    url: app.url,
    databaseUrl,
    orm,
    tokens,
    queries,
    sent,
    logs,
    async clinician(role = Role.PRESCRIBER, overrides = {}) {
      const id = randomUUID().slice(0, 8);
      const claims = {
        sub: overrides.sub ?? `test-${id}`,
        email: overrides.email ?? `${role.toLowerCase()}-${id}@clinic.example`,
        name: overrides.name ?? `${role.toLowerCase()} ${id}`,
        role,
      };
      const token = await tokens.sign!(claims, 3600);
      return {
        ...claims,
        token,
        http: new GraphQLClient(`${app.url}/graphql`, { headers: { authorization: `Bearer ${token}` } }),
      };
    },
    ws(token, wsOptions = {}) {
      const client = createClient({
        url: `${app.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
        ...wsOptions,
      });
      sockets.push(client);
      return client;
    },
    async sql(text, params) {
      return (await pool.query(text, params as unknown[])).rows;
    },
    async close() {
      await Promise.all(sockets.map((s) => s.dispose()));
      await app.close();
      await orm.close();
      await pool.end();
    },
  };
}
