import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import { Role } from '../../src/domain/roles';
import { createLogger } from '../../src/logger';
import { MeDocument } from '../generated/graphql';
import { startTestServer, type TestServer } from '../support/server';
import { eventually } from '../support/subscription';

// A database of this test's own, which it stops and starts again under a running server.
let dir: string;
let port: number;
let database: EmbeddedDatabase;
let server: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kap-ready-'));
  database = await startEmbeddedPostgres(path.join(dir, 'data'), createLogger('warn'));
  port = Number(new URL(database.url).port);
  server = await startTestServer({ databaseUrl: database.url });
});
afterAll(async () => {
  await server?.close();
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
});

const status = async (route: string) => (await fetch(`${server.url}${route}`)).status;

describe('/readyz', () => {
  it('says not ready while the database is gone, and ready again once it is back; /healthz stays a liveness check', async () => {
    const prescriber = await server.clinician(Role.PRESCRIBER);
    expect(await status('/readyz')).toBe(200);
    expect((await prescriber.http.request(MeDocument)).me.role).toBe('PRESCRIBER');

    await database.stop();
    expect(await status('/readyz')).toBe(503);
    expect(await status('/healthz')).toBe(200);

    database = await startEmbeddedPostgres(path.join(dir, 'data'), createLogger('warn'), { port });
    await eventually(async () => (await status('/readyz')) === 200);
    // Not only the probe: requests are served again, through the same pool.
    await eventually(
      async () =>
        await prescriber.http.request(MeDocument).then(
          () => true,
          () => false,
        ),
    );
  });
});
