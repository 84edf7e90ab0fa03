import { randomUUID } from 'node:crypto';
import {
  execute,
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, MessageType } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import { bearerToken, type TokenService } from '../auth/tokens';
import { AppError } from '../errors';
import type { SocketLimits } from '../config/config';
import { closeAtExpiry, sendWithin } from '../http/sockets';
import { clip, type Logger } from '../logger';
import type { Admission } from './admission';
import type { GraphQLContext } from './context';
import type { ContextFactory } from './contextFactory';
import { formatError } from './errors';
import { allRules, OperationLimitError, operationLimits } from './limits';
import type { LiveFeeds } from './liveFeeds';
import { subscribeShared, type SubscriptionChannel } from './sharedExecution';

interface Extra extends Record<PropertyKey, unknown> {
  authorization?: string;
  /** When the connection's token expires, in milliseconds since the epoch. */
  expiresAt?: number;
  /** Names the connection in the logs, from its upgrade's `x-request-id` when it sent one. */
  connectionId?: string;
  clinicianSub?: string;
}

/**
 * graphql-ws on the /graphql path. The token from `connectionParams.authorization` is checked at
 * `connection_init` (failure closes the socket with 4401) and again at every subscribe. When it
 * expires the socket is closed with 4401, which ends every subscription on it: nothing is delivered
 * under an expired token. The client reconnects with a fresh one and catches up (`alerts(after:)`).
 */
export function serveGraphQLWs(
  wss: WebSocketServer,
  options: {
    schema: GraphQLSchema;
    tokens: TokenService;
    /** For queries and mutations sent over the socket. */
    contextFor: ContextFactory;
    /** For subscriptions: their events are delivered over the delivery connections. */
    subscriptionContextFor: ContextFactory;
    /** Queries and mutations over the socket take their turn with those over HTTP. */
    admission: Admission;
    /** The instance's live subscriptions. */
    feeds: LiveFeeds;
    production: boolean;
    limits: SocketLimits;
    logger: Logger;
  },
) {
  const { schema, tokens, contextFor, subscriptionContextFor, admission, feeds, production, limits, logger } =
    options;
  const rules = production ? [...allRules(false), NoSchemaIntrospectionCustomRule] : allRules(true);
  const format = (error: GraphQLError) =>
    formatError(error.toJSON(), error, { logger, hideSuggestions: production });
  // The text each parsed operation came from: alike subscriptions share one execution per event.
  const queryText = new WeakMap<DocumentNode, string>();
  // Each subscription's socket and operation id, by its context: results are sent there directly.
  const channels = new WeakMap<GraphQLContext, SubscriptionChannel>();

  return useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      subscribe: subscribeShared({
        queryText,
        channelOf: (context) => channels.get(context)!,
        format,
        feeds,
      }),
      execute: (args) =>
        admission
          .run(async () => {
            if (getOperationAST(args.document, args.operationName)?.operation === 'mutation')
              admission.refuseWriteWhileBehind();
            return execute(args);
          })
          .catch((error: unknown) => {
            if (error instanceof AppError && error.code === 'SERVICE_UNAVAILABLE')
              return { errors: [new GraphQLError(error.message, { originalError: error })] };
            throw error;
          }),
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        const inbound = ctx.extra.request.headers['x-request-id'];
        ctx.extra.connectionId = typeof inbound === 'string' ? clip(inbound, 64) : randomUUID();
        let identity;
        try {
          identity = await tokens.verify(bearerToken(authorization));
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          logger.info(
            { connectionId: ctx.extra.connectionId, code: CloseCode.Unauthorized },
            'graphql-ws connection refused',
          );
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthenticated: ' + error.message);
          return false;
        }
        ctx.extra.authorization = authorization as string;
        ctx.extra.expiresAt = identity.expiresAt * 1000;
        ctx.extra.clinicianSub = identity.sub;
        closeAtExpiry(ctx.extra.socket, new Date(ctx.extra.expiresAt), CloseCode.Unauthorized);
        logger.info(
          { connectionId: ctx.extra.connectionId, clinicianSub: identity.sub },
          'graphql-ws connected',
        );
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        let document;
        try {
          document = parse(payload.query, { maxTokens: operationLimits.maxTokens });
        } catch (error) {
          return [requestError(error, 'GRAPHQL_PARSE_FAILED')];
        }
        queryText.set(document, payload.query);
        const errors = validate(schema, document, rules);
        // Formatted by onError, like every error sent; an OperationLimitError keeps its own code.
        if (errors.length > 0)
          return errors.map((e) =>
            e instanceof OperationLimitError ? e : requestError(e, 'GRAPHQL_VALIDATION_FAILED'),
          );
        let contextValue: GraphQLContext;
        try {
          const subscription = getOperationAST(document, payload.operationName)?.operation === 'subscription';
          contextValue = await (subscription ? subscriptionContextFor : contextFor)(
            ctx.extra.authorization,
            randomUUID(),
          );
        } catch (error) {
          if (error instanceof AppError)
            return [new GraphQLError(error.message, { extensions: { code: error.code } })];
          throw error;
        }
        const { socket, expiresAt } = ctx.extra;
        channels.set(
          contextValue,
          channel(id, (message) => {
            // An event that reaches the socket as its token expires is not sent; the close is due.
            if (Date.now() >= expiresAt!) socket.close(CloseCode.Unauthorized, 'token expired');
            else sendWithin(socket, message, limits, logger, 'graphql');
          }),
        );
        return {
          schema,
          document,
          contextValue,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      // Queries and mutations sent over the socket; subscription results are sent by sharedExecution.ts.
      onNext: async (_ctx, _id, _payload, args, result) => {
        // Audited before the data leaves, as over HTTP.
        await (args.contextValue as GraphQLContext).records.scope.flushAudit();
        if (!result.errors) return result;
        return { ...result, errors: result.errors.map((error) => format(error)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
      onClose: (ctx, code) =>
        logger.info(
          { connectionId: ctx.extra.connectionId, clinicianSub: ctx.extra.clinicianSub, code },
          'graphql-ws closed',
        ),
    },
    wss,
    // graphql-ws's own keep-alive (a ping every 12 s) is off: every socket has one heartbeat, the
    // server's (src/http/sockets.ts, `keepAlive`), on /graphql as on /collab.
    0,
  );
}

/** A rejection of the operation itself, under the code Apollo gives it over HTTP. */
function requestError(
  error: unknown,
  code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED',
): GraphQLError {
  const message = error instanceof Error ? error.message : String(error);
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    extensions: { code },
  });
}

/** A subscription's results as graphql-ws `next` messages, under its operation id. */
function channel(id: string, send: (message: string) => void): SubscriptionChannel {
  const head = `{"id":${JSON.stringify(id)},"type":${JSON.stringify(MessageType.Next)},"payload":`;
  return {
    next(payload) {
      send(`${head}${payload}}`);
    },
  };
}
