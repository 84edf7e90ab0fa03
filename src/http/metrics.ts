import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Orm } from '../db/orm';

export interface Metrics {
  registry: Registry;
  observeRequest(route: string, operation: string | undefined, status: number, seconds: number): void;
  openSockets: Gauge<'endpoint'>;
}

interface Backlog {
  readonly events: number;
  oldestWaitMs(): number;
}

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names are client-chosen; past this many distinct ones, the rest count as "other". */
const MAX_OPERATION_NAMES = 200;

/** Prometheus metrics for one server instance, in a registry of its own. */
export function createMetrics(
  orm: Orm,
  loadedDocuments: () => number,
  /** The live feeds' backlog (src/graphql/liveFeeds.ts). */
  backlog: Backlog,
  /** The worst backlog of every instance, this one's included, as writes are held to it (src/graphql/networkDelivery.ts). */
  networkBacklog: Backlog,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'kap_http_requests_total',
    help: 'HTTP requests by route, GraphQL operation name and status.',
    labelNames: ['route', 'operation', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kap_http_request_duration_seconds',
    help: 'HTTP request latency by route and GraphQL operation name.',
    labelNames: ['route', 'operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const openSockets = new Gauge({
    name: 'kap_open_websockets',
    help: 'Open WebSocket connections by endpoint.',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  new Gauge({
    name: 'kap_db_pool_connections',
    help: 'Database pool connections by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = orm.em.getConnection().getKnex().client.pool;
      if (!pool) return;
      this.set({ state: 'used' }, pool.numUsed());
      this.set({ state: 'free' }, pool.numFree());
      this.set({ state: 'pending' }, pool.numPendingAcquires());
    },
  });

  new Gauge({
    name: 'kap_collab_documents_loaded',
    help: 'Plan documents held in memory (open in an editor, or being read).',
    registers: [registry],
    collect() {
      this.set(loadedDocuments());
    },
  });

  new Gauge({
    name: 'kap_live_events_undelivered',
    help: "Live events heard for this instance's subscribers and not yet sent to every recipient.",
    registers: [registry],
    collect() {
      this.set(backlog.events);
    },
  });
  new Gauge({
    name: 'kap_live_oldest_undelivered_seconds',
    help: 'How long the oldest undelivered live event has waited (0 when none); writes are refused past MAX_DELIVERY_DELAY_MS.',
    registers: [registry],
    collect() {
      this.set(backlog.oldestWaitMs() / 1000);
    },
  });
  new Gauge({
    name: 'kap_live_network_events_undelivered',
    help: 'The most live events any instance (this one included) reported undelivered lately.',
    registers: [registry],
    collect() {
      this.set(networkBacklog.events);
    },
  });
  new Gauge({
    name: 'kap_live_network_oldest_undelivered_seconds',
    help: "The longest any instance (this one included) has had a live event undelivered, by its latest report; writes are refused past that instance's MAX_DELIVERY_DELAY_MS.",
    registers: [registry],
    collect() {
      this.set(networkBacklog.oldestWaitMs() / 1000);
    },
  });

  const seen = new Set<string>();
  const label = (route: string, operation: string | undefined) => {
    if (route !== 'graphql') return '';
    if (operation === undefined) return 'anonymous';
    if (!OPERATION_NAME.test(operation)) return 'other';
    if (!seen.has(operation) && seen.size >= MAX_OPERATION_NAMES) return 'other';
    seen.add(operation);
    return operation;
  };

  return {
    registry,
    openSockets,
    observeRequest(route, operation, status, seconds) {
      const name = label(route, operation);
      requests.inc({ route, operation: name, status: String(status) });
      duration.observe({ route, operation: name }, seconds);
    },
  };
}
