import { createClient, type Client } from 'graphql-ws';

/** An error the server answered with, carrying its `extensions.code` (UNAUTHENTICATED, FORBIDDEN, …). */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface Api {
  /** A query or mutation over HTTP POST `/graphql`, with the bearer token. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** A subscription over graphql-ws; returns the function that ends it. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): () => void;
  /** graphql-ws connection state changes; also called once at once. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

/**
 * GraphQL for the care board: plain `fetch` for queries and mutations, the stock graphql-ws client for
 * subscriptions, both on this page's own origin. The token is sent as a header and as graphql-ws
 * connection parameters, never in a URL.
 */
export function createApi(token: string, onUnauthenticated: () => void): Api {
  const origin = window.location.origin;
  let state: ConnectionState = 'connecting';
  const listeners = new Set<(state: ConnectionState) => void>();
  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of listeners) listener(state);
  };
  const ws: Client = createClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    lazy: false,
    retryAttempts: Infinity,
    // Reconnect after anything but a refused or expired token (4401) or a forbidden one (4403).
    shouldRetry: (event) => !(event instanceof CloseEvent && (event.code === 4401 || event.code === 4403)),
    on: {
      connecting: () => setState(state === 'connecting' ? 'connecting' : 'reconnecting'),
      connected: () => setState('connected'),
      closed: (event) => {
        if (event instanceof CloseEvent && event.code === 4401) onUnauthenticated();
        setState('closed');
      },
    },
  });

  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      const response = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json().catch(() => ({}))) as {
        data?: T;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      const error = body.errors?.[0];
      if (error) {
        if (error.extensions?.code === 'UNAUTHENTICATED') onUnauthenticated();
        throw new GraphQLRequestError(error.message, error.extensions?.code);
      }
      if (!response.ok || body.data === undefined)
        throw new GraphQLRequestError(`The server answered ${response.status}`, undefined);
      return body.data;
    },
    subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void) {
      return ws.subscribe<T>(
        { query, variables },
        {
          next: (result) => result.data && onData(result.data as T),
          error: (error) => console.warn('subscription ended', error),
          complete: () => {},
        },
      );
    },
    onConnection(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
    close: () => void ws.dispose(),
  };
}
