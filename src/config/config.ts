import path from 'node:path';

/**
 * Limits on the server's WebSockets, for the two kinds of peer that never say goodbye. One that
 * vanished without closing (a laptop put to sleep, a dropped network) leaves no trace on its socket:
 * its subscriptions would go on being served, and its presence in a document go on showing to the
 * others, for as long as the process lives. One that stops reading makes the server hold everything
 * sent to it, without bound. Either is cut; a client that comes back reconnects and catches up
 * (`alerts(after:)`, the document's sync).
 */
export interface SocketLimits {
  /** How often each socket is pinged. One that has not answered the previous ping by then is cut. */
  heartbeatMs: number;
  /** Bytes a socket may have waiting to be sent, past what the kernel took, before it is cut. */
  maxBufferedBytes: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = { heartbeatMs: 30_000, maxBufferedBytes: 8 * 1024 * 1024 };

/** Bounds on what one connection may keep in a document's presence. */
export interface PresenceLimits {
  /** Largest presence state (cursor, selection, user) a client may announce, as JSON bytes. */
  maxStateBytes: number;
  /** How many presence client ids one connection may announce (a stock client uses one). */
  maxClientsPerConnection: number;
}

export const DEFAULT_PRESENCE_LIMITS: PresenceLimits = { maxStateBytes: 4096, maxClientsPerConnection: 4 };

/**
 * All configuration, read once at start from the environment. Nothing else in the code base reads
 * `process.env`: everything it needs is passed down from here.
 */
export interface Config {
  production: boolean;
  host: string;
  port: number;
  /** Unset: an embedded PostgreSQL is started with its data under `dataDir/postgres`. */
  databaseUrl: string | undefined;
  /** Where development state lives: embedded database files and the generated JWT secret. */
  dataDir: string;
  jwt: JwtConfig;
  seedDemo: boolean;
  /** Serve the care board (the web app built from `web/`) at `/`. */
  webApp: boolean;
  logLevel: LogLevel;
  /** Largest WebSocket message a client may send to the live document before it is disconnected. */
  collabMaxMessageBytes: number;
  /** Bounds on each editor's presence in a live document (`PresenceLimits`). */
  collabPresence: PresenceLimits;
  /** What the clinic sets for dosing sessions. */
  dosing: DosingSettings;
  /** Heartbeat and send-buffer bound of every WebSocket (`SocketLimits`, src/http/sockets.ts). */
  sockets: SocketLimits;
  /**
   * Web origins whose pages may call `/graphql` (CORS): `scheme://host[:port]`, a port of `*` for
   * any port, or `*` for every origin. Lower-case, without a trailing slash.
   */
  corsOrigins: readonly string[];
  /** What keeps alerts going out while the instance is busier than it can serve. */
  load: LoadSettings;
}

/**
 * Alerts first: live events are delivered over connections of their own, GraphQL requests beyond
 * what the database pool serves are refused at once with SERVICE_UNAVAILABLE and Retry-After
 * instead of queueing without bound, and so are writes while delivery is behind them (README,
 * "Alerts under load").
 */
export interface LoadSettings {
  /** Connections, besides the pool for requests, that only deliver live events (`DELIVERY_CONNECTIONS`). */
  deliveryConnections: number;
  /** GraphQL requests executing at once on this instance (`MAX_CONCURRENT_REQUESTS`). */
  maxConcurrentRequests: number;
  /** Requests waiting for their turn (`MAX_QUEUED_REQUESTS`); one more is refused at once. */
  maxQueuedRequests: number;
  /** The longest a request waits for its turn before it is refused (`MAX_QUEUE_WAIT_MS`). */
  maxQueueWaitMs: number;
  /**
   * Writes (mutations) are refused while the oldest event not yet delivered to this instance's
   * subscribers has waited longer than this (`MAX_DELIVERY_DELAY_MS`)…
   */
  maxDeliveryDelayMs: number;
  /** …or while this many events or more wait to be delivered (`MAX_DELIVERY_BACKLOG`). */
  maxDeliveryBacklog: number;
  /**
   * With several instances, the same holds for theirs: a write admitted here raises alerts another
   * instance's subscribers wait for. An instance with events undelivered tells the others its backlog
   * and its two limits this often (`DELIVERY_REPORT_INTERVAL_MS`), and once more when it has caught up;
   * each refuses writes while any is behind by its own limits.
   */
  deliveryReportIntervalMs: number;
  /**
   * How long an instance's last report holds writes when no other follows it
   * (`DELIVERY_REPORT_EXPIRY_MS`): an instance closed, crashed or cut off from the database stops
   * holding anyone's writes after this. Longer than the interval, so a live instance's reports do not
   * lapse between two on a loaded machine.
   */
  deliveryReportExpiryMs: number;
}

/**
 * The request pool has 10 connections (src/db/orm.ts): a few more requests than that keep it busy.
 * Delivery's audit rows take two connections of its own while alerts keep coming (two inserts at
 * once, src/records/auditWriter.ts); the rest read each alert and, until this instance has its
 * patient's team in memory, the team too: with three in all, those reads queued on the one left.
 * A CRITICAL alert is due at its recipients within a second: writes stop well before delivery is
 * that far behind, leaving time for those already admitted (BENCHMARKS.md, issue 19).
 */
export const DEFAULT_LOAD: LoadSettings = {
  deliveryConnections: 5,
  maxConcurrentRequests: 16,
  maxQueuedRequests: 64,
  maxQueueWaitMs: 1000,
  maxDeliveryDelayMs: 250,
  maxDeliveryBacklog: 100,
  // A tenth of a second: the others learn of a backlog's growth well within the delay allowed, at ten
  // notifications a second per busy instance. A second of silence is a stopped instance (Retry-After).
  deliveryReportIntervalMs: 100,
  deliveryReportExpiryMs: 1000,
};

/** Pages served by a local dev server (Vite, Next) on any port. */
export const DEVELOPMENT_CORS_ORIGINS: readonly string[] = ['http://localhost:*', 'http://127.0.0.1:*'];
export interface DosingSettings {
  /** Racemic ketamine's minimum monitoring before discharge (`KETAMINE_MIN_MONITORING_MIN`). */
  ketamineMinMonitoringMinutes: number;
}

/** 60 minutes unless the clinic sets otherwise (CLINICAL.md, "Courses and dosing safety"). */
export const DEFAULT_DOSING: DosingSettings = { ketamineMinMonitoringMinutes: 60 };

export type JwtConfig =
  | { kind: 'secret'; secret: string; issuer?: string; audience?: string }
  | { kind: 'jwks'; jwksUrl: URL; issuer?: string; audience?: string }
  /** Development only: a secret generated once and kept under `dataDir`. */
  | { kind: 'generated'; issuer?: string; audience?: string };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A bad setting: its message is the one line printed before the process exits. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const production = env.NODE_ENV === 'production';
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const jwt = readJwt(get, production);
  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a valid URL (expected postgres://user:password@host:port/database)',
      );
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', `must use the postgres:// scheme (got "${url.protocol}")`);
    }
  }

  return {
    production,
    host: get('HOST') ?? '127.0.0.1',
    port: readInt(get, 'PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir: path.resolve(cwd, get('DATA_DIR') ?? '.data'),
    jwt,
    seedDemo: readBool(get, 'SEED_DEMO', !production),
    webApp: readBool(get, 'WEB_APP', !production),
    logLevel: readEnum(get, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    collabMaxMessageBytes: readInt(get, 'COLLAB_MAX_MESSAGE_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    collabPresence: {
      maxStateBytes: readInt(
        get,
        'COLLAB_MAX_PRESENCE_BYTES',
        DEFAULT_PRESENCE_LIMITS.maxStateBytes,
        256,
        64 * 1024,
      ),
      maxClientsPerConnection: readInt(
        get,
        'COLLAB_MAX_PRESENCE_CLIENTS',
        DEFAULT_PRESENCE_LIMITS.maxClientsPerConnection,
        1,
        64,
      ),
    },
    // Below 30 minutes is not observation after ketamine; a day is the most a session holds.
    dosing: {
      ketamineMinMonitoringMinutes: readInt(
        get,
        'KETAMINE_MIN_MONITORING_MIN',
        DEFAULT_DOSING.ketamineMinMonitoringMinutes,
        30,
        1440,
      ),
    },
    sockets: DEFAULT_SOCKET_LIMITS,
    corsOrigins: readCorsOrigins(get, production),
    load: {
      deliveryConnections: readInt(get, 'DELIVERY_CONNECTIONS', DEFAULT_LOAD.deliveryConnections, 1, 50),
      maxConcurrentRequests: readInt(
        get,
        'MAX_CONCURRENT_REQUESTS',
        DEFAULT_LOAD.maxConcurrentRequests,
        1,
        10_000,
      ),
      maxQueuedRequests: readInt(get, 'MAX_QUEUED_REQUESTS', DEFAULT_LOAD.maxQueuedRequests, 0, 100_000),
      maxQueueWaitMs: readInt(get, 'MAX_QUEUE_WAIT_MS', DEFAULT_LOAD.maxQueueWaitMs, 1, 60_000),
      maxDeliveryDelayMs: readInt(get, 'MAX_DELIVERY_DELAY_MS', DEFAULT_LOAD.maxDeliveryDelayMs, 1, 600_000),
      maxDeliveryBacklog: readInt(get, 'MAX_DELIVERY_BACKLOG', DEFAULT_LOAD.maxDeliveryBacklog, 1, 1_000_000),
      ...readDeliveryReports(get),
    },
  };
}

function readDeliveryReports(
  get: (name: string) => string | undefined,
): Pick<LoadSettings, 'deliveryReportIntervalMs' | 'deliveryReportExpiryMs'> {
  const interval = readInt(
    get,
    'DELIVERY_REPORT_INTERVAL_MS',
    DEFAULT_LOAD.deliveryReportIntervalMs,
    10,
    60_000,
  );
  const expiry = readInt(get, 'DELIVERY_REPORT_EXPIRY_MS', DEFAULT_LOAD.deliveryReportExpiryMs, 20, 600_000);
  if (expiry <= interval)
    throw new ConfigError(
      'DELIVERY_REPORT_EXPIRY_MS',
      `must be longer than DELIVERY_REPORT_INTERVAL_MS (${interval}): a live instance's reports would lapse between two`,
    );
  return { deliveryReportIntervalMs: interval, deliveryReportExpiryMs: expiry };
}

const ORIGIN = /^https?:\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(:(\d{1,5}|\*))?$/;

function readCorsOrigins(get: (name: string) => string | undefined, production: boolean): readonly string[] {
  const raw = get('CORS_ORIGINS');
  if (raw === undefined) return production ? [] : DEVELOPMENT_CORS_ORIGINS;
  const origins = raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\/$/, ''))
    .filter((entry) => entry !== '');
  for (const origin of origins) {
    if (origin !== '*' && !ORIGIN.test(origin)) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `entry "${origin}" is not an origin (scheme://host[:port], :* for any port, or *)`,
      );
    }
  }
  return origins;
}

function readJwt(get: (name: string) => string | undefined, production: boolean): JwtConfig {
  const secret = get('JWT_SECRET');
  const jwks = get('JWT_JWKS_URL');
  const issuer = get('JWT_ISSUER');
  const audience = get('JWT_AUDIENCE');
  if (secret !== undefined && jwks !== undefined) {
    throw new ConfigError('JWT_SECRET', 'and JWT_JWKS_URL are both set; set only one');
  }
  if (jwks !== undefined) {
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(jwks);
    } catch {
      throw new ConfigError('JWT_JWKS_URL', 'is not a valid URL');
    }
    if (production && jwksUrl.protocol !== 'https:') {
      throw new ConfigError('JWT_JWKS_URL', 'must use https in production');
    }
    return { kind: 'jwks', jwksUrl, issuer, audience };
  }
  if (secret !== undefined) {
    // HS256 with a short key is brute-forceable; RFC 7518 §3.2 asks for at least the hash size.
    if (Buffer.byteLength(secret, 'utf8') < 32) {
      throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long');
    }
    return { kind: 'secret', secret, issuer, audience };
  }
  if (production) {
    throw new ConfigError('JWT_SECRET', 'or JWT_JWKS_URL is required when NODE_ENV=production');
  }
  return { kind: 'generated', issuer, audience };
}

function readInt(
  get: (name: string) => string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function readBool(get: (name: string) => string | undefined, name: string, fallback: boolean): boolean {
  const raw = get(name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function readEnum<T extends string>(
  get: (name: string) => string | undefined,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = get(name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}
