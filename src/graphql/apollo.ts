import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { RETRY_AFTER_SECONDS, type Admission } from './admission';
import type { GraphQLContext } from './context';
import { formatError } from './errors';
import { limitRules, operationLimits } from './limits';

export function createApollo(
  schema: GraphQLSchema,
  options: { production: boolean; logger: Logger; admission: Admission },
) {
  const { production, logger, admission } = options;
  return new ApolloServer<GraphQLContext>({
    schema,
    // The server drains and stops in order on SIGINT/SIGTERM (src/main.ts); Apollo must not race it.
    stopOnTerminationSignals: false,
    introspection: !production,
    // A request a page on another site could send without a preflight (a GET, or a POST of a form
    // or text/plain) is refused unless it carries a header only a preflighted request can: Apollo's
    // two, or the Authorization header every authenticated call carries anyway, so urql's default
    // GET for queries works while a forged one without a token still gets nothing (README, CORS).
    csrfPrevention: {
      requestHeaders: ['apollo-require-preflight', 'x-apollo-operation-name', 'authorization'],
    },
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: production,
    parseOptions: { maxTokens: operationLimits.maxTokens },
    validationRules: limitRules(!production),
    formatError: (formatted, error) => formatError(formatted, error, { logger, hideSuggestions: production }),
    plugins: [
      // Apollo's Sandbox loads from a CDN; development serves GraphiQL instead (src/http/graphiql.ts).
      ApolloServerPluginLandingPageDisabled(),
      // Answers carry patient data and are never cached: without Apollo's cache-control plugin (on by
      // default) no resolver of any field is wrapped to collect cache hints nobody sets.
      ApolloServerPluginCacheControlDisabled(),
      auditBeforeResponse(logger),
      subscriptionsOverWebSocket(),
      writesHeldToDelivery(admission),
    ],
  });
}

/**
 * Reads are audited before their data leaves: if the audit rows cannot be written, the client gets
 * an error instead of the data.
 */
function auditBeforeResponse(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          try {
            await contextValue.records.scope.flushAudit();
          } catch (error) {
            logger.error(
              { err: { type: (error as Error).name, stack: (error as Error).stack } },
              'audit write failed',
            );
            response.http.status = 500;
            response.body = {
              kind: 'single',
              singleResult: {
                errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
              },
            };
          }
        },
      };
    },
  };
}

/**
 * A mutation is refused before it runs while delivery is behind (`Admission.refuseWriteWhileBehind`):
 * HTTP 503 with Retry-After, as when the instance is at capacity. Decided once the operation is
 * known, so a persisted query or a document of several operations is judged by the one that runs.
 */
function writesHeldToDelivery(admission: Admission): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'mutation') return;
          try {
            admission.refuseWriteWhileBehind();
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            throw new GraphQLError(error.message, {
              originalError: error,
              extensions: {
                code: error.code,
                http: { status: 503, headers: new HeaderMap([['retry-after', String(RETRY_AFTER_SECONDS)]]) },
              },
            });
          }
        },
      };
    },
  };
}

/** A subscription sent over HTTP is told where subscriptions are served, instead of failing inside. */
function subscriptionsOverWebSocket(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(
              'Subscriptions are served over WebSocket (graphql-ws, subprotocol graphql-transport-ws) on /graphql',
              {
                extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
              },
            );
          }
        },
      };
    },
  };
}
