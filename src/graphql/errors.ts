import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { isTokenLimitError, OperationLimitError, operationLimits } from './limits';

const CLIENT_CODES: readonly string[] = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'SERVICE_UNAVAILABLE',
] satisfies ErrorCode[];
/** What Apollo decides about a request before any resolver runs, under Apollo's own codes. */
const APOLLO_CODES: readonly string[] = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
];

/**
 * The one edge where errors become what clients see (the README's catalogue): AppError codes as
 * they are, an operation over a limit as OPERATION_TOO_COMPLEX with the limit, Apollo's request
 * errors under Apollo's codes, GraphQL's other rejections of input (variables that do not coerce) as
 * BAD_USER_INPUT, and anything else as an opaque INTERNAL_SERVER_ERROR that is logged (by id and
 * stack, never with the request's data).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { logger: Logger; hideSuggestions: boolean },
): GraphQLFormattedError {
  let original = unwrapResolverError(error);
  // Errors raised while a subscription's stream runs arrive wrapped without a path; Apollo wraps
  // validation errors around the rule's own.
  while (original instanceof GraphQLError && original.originalError) original = original.originalError;
  const { locations, path } = formatted;
  // In production the schema is not described, not even as a suggestion inside another error (a
  // variable's coercion, an enum value).
  const message = options.hideSuggestions
    ? formatted.message.replace(/ ?Did you mean .*\?$/, '')
    : formatted.message;
  if (original instanceof AppError)
    return { message: original.message, locations, path, extensions: { code: original.code } };
  if (original instanceof OperationLimitError)
    return { message: original.message, locations, path, extensions: { ...original.extensions } };
  if (isTokenLimitError(message)) {
    const limit = new OperationLimitError(
      'maxTokens',
      `The operation has more than ${operationLimits.maxTokens} tokens`,
    );
    return { message: limit.message, locations, extensions: { ...limit.extensions } };
  }
  const code = String(formatted.extensions?.code ?? '');
  if (CLIENT_CODES.includes(code)) return { message, locations, path, extensions: { code } };
  if (APOLLO_CODES.includes(code)) return { message, locations, path, extensions: { code } };
  if (original instanceof GraphQLError && !original.originalError) {
    return { message, locations, path, extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode } };
  }
  const cause = original instanceof Error ? original : new Error(String(original));
  options.logger.error({ err: { type: cause.name, stack: cause.stack }, path }, 'unexpected error');
  return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
