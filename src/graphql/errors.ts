import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';

const CLIENT_CODES: readonly string[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT'];
/** GraphQL's own rejections of a request are bad input from the client's point of view. */
const REQUEST_CODES: readonly string[] = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
];

/**
 * The one edge where errors become what clients see: AppError codes as they are, GraphQL's request
 * errors as BAD_USER_INPUT, and anything else as an opaque INTERNAL_SERVER_ERROR that is logged
 * (by id and stack, never with the request's data).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { logger: Logger; hideSuggestions: boolean },
): GraphQLFormattedError {
  let original = unwrapResolverError(error);
  // Errors raised while a subscription's stream runs arrive wrapped without a path.
  while (original instanceof GraphQLError && original.originalError) original = original.originalError;
  const { locations, path } = formatted;
  // In production the schema is not described, not even as a suggestion inside another error (a
  // variable's coercion, an enum value).
  const message = options.hideSuggestions ? formatted.message.replace(/ ?Did you mean .*\?$/, '') : formatted.message;
  if (original instanceof AppError) return { message: original.message, locations, path, extensions: { code: original.code } };
  const code = String(formatted.extensions?.code ?? '');
  if (CLIENT_CODES.includes(code)) return { message, locations, path, extensions: { code } };
  if (REQUEST_CODES.includes(code) || (original instanceof GraphQLError && !original.originalError)) {
    return { message, locations, path, extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode } };
  }
  const cause = original instanceof Error ? original : new Error(String(original));
  options.logger.error({ err: { type: cause.name, stack: cause.stack }, path }, 'unexpected error');
  return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
