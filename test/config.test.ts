import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD, loadConfig } from '../src/config/config';

const secret = 'x'.repeat(32);

describe('loadConfig', () => {
  it('has development defaults', () => {
    const config = loadConfig({}, '/srv/kap');
    expect(config).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 4000,
      databaseUrl: undefined,
      dataDir: '/srv/kap/.data',
      jwt: { kind: 'generated' },
      seedDemo: true,
      webApp: true,
      logLevel: 'info',
      collabMaxMessageBytes: 1024 * 1024,
      corsOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
      collabPresence: { maxStateBytes: 4096, maxClientsPerConnection: 4 },
      dosing: { ketamineMinMonitoringMinutes: 60 },
    });
  });

  it('admits no origin in production unless CORS_ORIGINS lists some', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: secret };
    expect(loadConfig(production).corsOrigins).toEqual([]);
    expect(
      loadConfig({
        ...production,
        CORS_ORIGINS: ' https://Care.Example.org/ , http://localhost:*,https://[::1]:8443',
      }).corsOrigins,
    ).toEqual(['https://care.example.org', 'http://localhost:*', 'https://[::1]:8443']);
  });

  it('reads the clinic’s minimum monitoring after racemic ketamine, within 30 minutes to a day', () => {
    expect(loadConfig({ KETAMINE_MIN_MONITORING_MIN: '90' }).dosing.ketamineMinMonitoringMinutes).toBe(90);
    expect(() => loadConfig({ KETAMINE_MIN_MONITORING_MIN: '0' })).toThrow(
      'KETAMINE_MIN_MONITORING_MIN must be a whole number from 30 to 1440 (got "0")',
    );
    expect(() => loadConfig({ KETAMINE_MIN_MONITORING_MIN: 'an hour' })).toThrow(
      'KETAMINE_MIN_MONITORING_MIN',
    );
  });

  it('reads the delivery connections and the request admission limits', () => {
    expect(loadConfig({}).load).toEqual(DEFAULT_LOAD);
    expect(
      loadConfig({
        DELIVERY_CONNECTIONS: '2',
        MAX_CONCURRENT_REQUESTS: '8',
        MAX_QUEUED_REQUESTS: '0',
        MAX_QUEUE_WAIT_MS: '250',
        MAX_DELIVERY_DELAY_MS: '400',
        MAX_DELIVERY_BACKLOG: '20',
        DELIVERY_REPORT_INTERVAL_MS: '200',
        DELIVERY_REPORT_EXPIRY_MS: '2000',
      }).load,
    ).toEqual({
      deliveryConnections: 2,
      maxConcurrentRequests: 8,
      maxQueuedRequests: 0,
      maxQueueWaitMs: 250,
      maxDeliveryDelayMs: 400,
      maxDeliveryBacklog: 20,
      deliveryReportIntervalMs: 200,
      deliveryReportExpiryMs: 2000,
    });
    expect(() => loadConfig({ DELIVERY_CONNECTIONS: '0' })).toThrow(
      'DELIVERY_CONNECTIONS must be a whole number from 1 to 50 (got "0")',
    );
    expect(() => loadConfig({ MAX_QUEUE_WAIT_MS: 'soon' })).toThrow('MAX_QUEUE_WAIT_MS');
    expect(() => loadConfig({ MAX_DELIVERY_DELAY_MS: '0' })).toThrow(
      'MAX_DELIVERY_DELAY_MS must be a whole number from 1 to 600000 (got "0")',
    );
    expect(() => loadConfig({ MAX_DELIVERY_BACKLOG: 'many' })).toThrow('MAX_DELIVERY_BACKLOG');
    expect(() => loadConfig({ DELIVERY_REPORT_INTERVAL_MS: '5' })).toThrow(
      'DELIVERY_REPORT_INTERVAL_MS must be a whole number from 10 to 60000 (got "5")',
    );
    expect(() => loadConfig({ DELIVERY_REPORT_EXPIRY_MS: '100' })).toThrow(
      'DELIVERY_REPORT_EXPIRY_MS must be longer than DELIVERY_REPORT_INTERVAL_MS (100)',
    );
  });

  it('reads every variable', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/kap',
      JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'kap',
      LOG_LEVEL: 'warn',
      COLLAB_MAX_PRESENCE_BYTES: '2048',
      COLLAB_MAX_PRESENCE_CLIENTS: '2',
    });
    expect(config).toMatchObject({
      production: true,
      host: '0.0.0.0',
      port: 8080,
      seedDemo: false,
      webApp: false,
      logLevel: 'warn',
      collabPresence: { maxStateBytes: 2048, maxClientsPerConnection: 2 },
    });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, WEB_APP: 'true' }).webApp).toBe(true);
    expect(loadConfig({ WEB_APP: 'false' }).webApp).toBe(false);
    expect(config.jwt).toMatchObject({ kind: 'jwks', issuer: 'https://idp.example/', audience: 'kap' });
  });

  it.each<[Record<string, string>, string]>([
    [{ PORT: 'abc' }, 'PORT must be a whole number from 0 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL is not a valid URL'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL must use the postgres:// scheme'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes long'],
    [
      { JWT_SECRET: secret, JWT_JWKS_URL: 'https://idp.example/jwks' },
      'JWT_SECRET and JWT_JWKS_URL are both set',
    ],
    [{ JWT_JWKS_URL: '::' }, 'JWT_JWKS_URL is not a valid URL'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET or JWT_JWKS_URL is required when NODE_ENV=production'],
    [
      { NODE_ENV: 'production', JWT_JWKS_URL: 'http://idp.example/jwks' },
      'JWT_JWKS_URL must use https in production',
    ],
    [{ SEED_DEMO: 'maybe' }, 'SEED_DEMO must be true or false'],
    [{ WEB_APP: 'on' }, 'WEB_APP must be true or false'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [
      { CORS_ORIGINS: 'https://care.example.org/app' },
      'CORS_ORIGINS entry "https://care.example.org/app" is not an origin',
    ],
    [{ CORS_ORIGINS: 'care.example.org' }, 'CORS_ORIGINS entry "care.example.org" is not an origin'],
    [{ CORS_ORIGINS: 'https://*.example.org' }, 'CORS_ORIGINS entry'],
    [{ COLLAB_MAX_PRESENCE_BYTES: '100' }, 'COLLAB_MAX_PRESENCE_BYTES must be'],
    [{ COLLAB_MAX_PRESENCE_CLIENTS: '0' }, 'COLLAB_MAX_PRESENCE_CLIENTS must be'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error)?.message).toContain(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});
