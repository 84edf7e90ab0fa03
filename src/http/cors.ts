import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a page on another origin may send to `/graphql`. */
const ALLOWED_METHODS = 'GET, POST';
/**
 * `apollo-require-preflight` and `x-apollo-operation-name` are the headers Apollo's CSRF check
 * accepts on a GET (or a POST that is not JSON); `x-request-id` ties a client's logs to the server's.
 */
const ALLOWED_HEADERS =
  'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id';
/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for `/graphql`: pages on the configured origins may call it, without credentials (tokens go
 * in the Authorization header, never in cookies, so there is nothing ambient to borrow). Apollo's
 * CSRF check still runs on every request that is not a preflight.
 */
export function graphqlCors(origins: readonly string[]) {
  const admits = originMatcher(origins);
  return {
    /**
     * Adds the CORS headers to a `/graphql` response, and answers preflights (and any other
     * OPTIONS) itself: returns true when the request is done.
     */
    handle(req: IncomingMessage, res: ServerResponse): boolean {
      res.setHeader('vary', 'Origin');
      const origin = req.headers.origin;
      const admitted = typeof origin === 'string' && admits(origin);
      if (admitted) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-expose-headers', 'x-request-id');
      }
      if (req.method !== 'OPTIONS') return false;
      if (origin !== undefined && !admitted) {
        res.statusCode = 403;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end('This origin is not in CORS_ORIGINS\n');
        return true;
      }
      res.statusCode = 204;
      res.setHeader('allow', `${ALLOWED_METHODS}, OPTIONS`);
      if (admitted) {
        res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
        res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
        res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      res.end();
      return true;
    },
  };
}

/** Matches an `Origin` header against `CORS_ORIGINS` entries (src/config/config.ts). */
export function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  const exact = new Set(origins.filter((o) => o !== '*' && !o.endsWith(':*')));
  const anyPort = origins.filter((o) => o.endsWith(':*')).map((o) => o.slice(0, -2));
  const everyone = origins.includes('*');
  return (origin) => {
    const normalised = origin.toLowerCase();
    if (everyone && normalised !== 'null') return true;
    if (exact.has(normalised)) return true;
    const portless = normalised.replace(/:\d{1,5}$/, '');
    return anyPort.includes(portless);
  };
}
