import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { careTeamDirectory, readCareTeam, readTeamsOf } from './auth/careTeams';
import { liveFeeds } from './graphql/liveFeeds';
import { networkDelivery } from './graphql/networkDelivery';
import type { TokenService } from './auth/tokens';
import type { DemoTokens } from './auth/demoTokens';
import {
  DEFAULT_DOSING,
  DEFAULT_LOAD,
  DEFAULT_PRESENCE_LIMITS,
  DEFAULT_SOCKET_LIMITS,
  type Config,
} from './config/config';
import { openSeparatePool, type Orm } from './db/orm';
import { Admission } from './graphql/admission';
import { createApollo } from './graphql/apollo';
import { contextFactory } from './graphql/contextFactory';
import { handleGraphQLHttp } from './graphql/http';
import { operationLimits } from './graphql/limits';
import { serveGraphQLWs } from './graphql/ws';
import { committedSince } from './events/catchUp';
import { startEventHub } from './events/hub';
import { graphqlCors } from './http/cors';
import { createMetrics, type Metrics } from './http/metrics';
import { keepAlive } from './http/sockets';
import { loadGraphiQL } from './http/graphiql';
import { loadWebApp } from './http/webApp';
import { createAuditWriter } from './records/auditWriter';
import { redeemCollabTicket } from './auth/collabTickets';
import { clinicianProvisioning, type SignedInClinician } from './auth/provision';
import { Clinician } from './entities';
import { PlanStore } from './collab/persistence';
import { CollabCloseCode } from './collab/protocol';
import { Rooms } from './collab/rooms';
import { collabTransport } from './collab/transport';
import { recordsFor } from './records';
import { clip, type Logger } from './logger';
import { buildGraphQLSchema } from './resolvers/schema';

export interface AppDeps {
  config: Pick<Config, 'production' | 'host' | 'port'> &
    Partial<
      Pick<Config, 'collabMaxMessageBytes' | 'collabPresence' | 'sockets' | 'corsOrigins' | 'dosing' | 'load'>
    >;
  /** Stored updates of a plan after which its log is folded into a snapshot. */
  compactAfter?: number;
  orm: Orm;
  tokens: TokenService;
  logger: Logger;
  /** Development with seeded demo data only: serves `GET /dev/demo-tokens` (absent: the route is 404). */
  demoTokens?: DemoTokens;
  /** The built care board (`dist/web`), served at `/`; absent: no web app. */
  webAppDir?: string;
}

export interface RunningApp {
  /** `http://host:port`, with the port actually bound (tests listen on port 0). */
  url: string;
  metrics: Metrics;
  /** GraphQL subscriptions receiving live events on this instance. */
  liveSubscriptions(): number;
  /** Events heard for this instance's subscribers and not yet sent to every recipient. */
  undeliveredEvents(): number;
  /** Plan documents held in memory on this instance. */
  loadedDocuments(): number;
  /** Stops taking work, lets open requests finish, closes sockets. Does not close the ORM. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Wires the HTTP routes, GraphQL over HTTP and WebSocket, and operations endpoints. */
export async function startApp({
  config,
  orm,
  tokens,
  logger,
  demoTokens,
  webAppDir,
  compactAfter = 500,
}: AppDeps): Promise<RunningApp> {
  const webApp = webAppDir === undefined ? undefined : await loadWebApp(webAppDir);
  const graphiql = config.production ? undefined : await loadGraphiQL();
  const schema = await buildGraphQLSchema();
  const hub = await startEventHub({
    databaseUrl: orm.config.get('clientUrl'),
    logger,
    catchUp: (since) => committedSince(orm, since),
  });
  const rooms = new Rooms(
    new PlanStore(orm.em.getConnection().getKnex()),
    hub,
    logger,
    compactAfter,
    config.collabPresence ?? DEFAULT_PRESENCE_LIMITS,
  );
  const load = config.load ?? DEFAULT_LOAD;
  // Live events are read, executed and audited over connections of their own: an alert does not
  // wait for a pool full of writes (README, "Alerts under load").
  const delivery = await openSeparatePool(orm, load.deliveryConnections);
  const careTeams = careTeamDirectory(hub, {
    team: (patientId) => readCareTeam(delivery.em.fork(), patientId),
    teamsOf: (clinicianId) => readTeamsOf(delivery.em.fork(), clinicianId),
  });
  // One delivery connection is always left to score alerts.
  const feeds = liveFeeds(hub, careTeams, Math.max(1, load.deliveryConnections - 1), logger);
  const services = {
    live: { careTeams },
    auditWriter: createAuditWriter(() => orm.em.fork()),
    rooms,
    dosing: config.dosing ?? DEFAULT_DOSING,
  };
  const provisionClinician = clinicianProvisioning();
  const contextFor = contextFactory(orm, tokens, provisionClinician, services);
  const subscriptionContextFor = contextFactory(delivery, tokens, provisionClinician, {
    ...services,
    auditWriter: createAuditWriter(() => delivery.em.fork()),
  });
  // Writes are held to the worst delivery backlog of every instance, not only this one's.
  const network = networkDelivery(hub, feeds.backlog, load);
  const admission = new Admission(load, network);
  const apollo = createApollo(schema, { production: config.production, logger, admission });
  await apollo.start();
  const socketLimits = config.sockets ?? DEFAULT_SOCKET_LIMITS;
  const collab = collabTransport({
    rooms,
    logger,
    limits: socketLimits,
    maxMessageBytes: config.collabMaxMessageBytes ?? 1024 * 1024,
    authorize: async ({ ticket, token }, planId) => {
      const em = orm.em.fork();
      let clinician: SignedInClinician;
      let expiresAt: Date;
      if (ticket !== undefined) {
        const redeemed = await redeemCollabTicket(em, ticket, planId);
        clinician = await em.findOneOrFail(Clinician, redeemed.clinicianId);
        expiresAt = redeemed.tokenExpiresAt;
      } else {
        const identity = await tokens.verify(token ?? '');
        clinician = await provisionClinician(em, identity);
        expiresAt = new Date(identity.expiresAt * 1000);
      }
      const records = recordsFor(em, clinician, randomUUID(), services);
      const { patientId } = await records.plans.openForEditing(planId);
      await records.scope.flushAudit();
      const { id, name, role } = clinician;
      return { clinician: { id, name, role }, patientId, requestId: records.scope.requestId, expiresAt };
    },
  });
  const cors = graphqlCors(config.corsOrigins ?? []);
  const metrics = createMetrics(orm, () => rooms.loaded, feeds.backlog, network.backlog);

  const graphqlWss = new WebSocketServer({ noServer: true, maxPayload: operationLimits.maxBodyBytes });
  const graphqlWs = serveGraphQLWs(graphqlWss, {
    schema,
    tokens,
    contextFor,
    subscriptionContextFor,
    admission,
    feeds,
    production: config.production,
    limits: socketLimits,
    logger,
  });
  trackSockets(graphqlWss, metrics, 'graphql');
  trackSockets(collab.wss, metrics, 'collab');
  const stopHeartbeats = [
    keepAlive(graphqlWss, socketLimits, logger, 'graphql'),
    keepAlive(collab.wss, socketLimits, logger, 'collab'),
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const inbound = req.headers['x-request-id'];
    const requestId = typeof inbound === 'string' && REQUEST_ID.test(inbound) ? inbound : randomUUID();
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    let route = 'other';
    let operation: string | undefined;
    try {
      if (graphiql?.(req, res, path)) {
        route = 'graphiql';
      } else if (path === '/graphql') {
        route = 'graphql';
        if (!cors.handle(req, res))
          operation = (await handleGraphQLHttp(apollo, contextFor, admission, req, res, requestId))
            .operationName;
      } else if (path === '/healthz' && req.method === 'GET') {
        route = 'healthz';
        sendJson(res, 200, { status: 'ok' });
      } else if (path === '/readyz' && req.method === 'GET') {
        route = 'readyz';
        const ready = await databaseReachable(orm);
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'database unreachable' });
      } else if (path === '/dev/demo-tokens' && req.method === 'GET' && demoTokens) {
        route = 'demo-tokens';
        res.setHeader('cache-control', 'no-store');
        // Browsers say where a request comes from: another site's page gets nothing (it could not read
        // the answer without CORS, but it should not even mint tokens).
        const site = req.headers['sec-fetch-site'];
        if (site !== undefined && site !== 'same-origin' && site !== 'none')
          sendJson(res, 403, { error: 'same-origin only' });
        else sendJson(res, 200, { clinicians: await demoTokens() });
      } else if (path === '/metrics' && req.method === 'GET') {
        route = 'metrics';
        res.setHeader('content-type', metrics.registry.contentType);
        res.end(await metrics.registry.metrics());
      } else if (webApp?.(req, res, path)) {
        route = 'web';
      } else {
        sendJson(res, 404, { error: 'not found' });
      }
    } catch (error) {
      logger.error(
        { requestId, err: { type: (error as Error).name, stack: (error as Error).stack } },
        'request failed',
      );
      if (!res.headersSent)
        sendJson(res, 500, {
          errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        });
      else res.destroy();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(route, operation, res.statusCode, seconds);
      if (route === 'graphql') {
        logger.info(
          {
            requestId,
            route,
            operation: clip(operation),
            status: res.statusCode,
            ms: Math.round(seconds * 1000),
          },
          'request',
        );
      }
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    const collabPath = /^\/collab\/([^/]+)$/.exec(path);
    if (path === '/graphql') {
      graphqlWss.handleUpgrade(req, socket, head, (ws) => graphqlWss.emit('connection', ws, req));
    } else if (collabPath) {
      void collab.handleUpgrade(req, socket, head, decodeURIComponent(collabPath[1]));
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    metrics,
    liveSubscriptions: () => feeds.count,
    undeliveredEvents: () => feeds.backlog.events,
    loadedDocuments: () => rooms.loaded,
    async close() {
      network.stop();
      for (const stop of stopHeartbeats) stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const client of graphqlWss.clients) client.close(1001, 'Server shutting down');
      for (const client of collab.wss.clients)
        client.close(CollabCloseCode.GoingAway, 'Server shutting down');
      rooms.close();
      await graphqlWs.dispose();
      // Requests in flight get a grace period; after it, whatever is left is cut.
      const grace = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(grace);
      await apollo.stop();
      await hub.close();
      await delivery.close();
    },
  };
}

function trackSockets(wss: WebSocketServer, metrics: Metrics, endpoint: string): void {
  wss.on('connection', (ws) => {
    metrics.openSockets.inc({ endpoint });
    ws.once('close', () => metrics.openSockets.dec({ endpoint }));
  });
}

async function databaseReachable(orm: Orm): Promise<boolean> {
  try {
    await Promise.race([
      orm.em.getConnection().execute('select 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
