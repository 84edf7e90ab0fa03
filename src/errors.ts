/**
 * The one error type the domain raises. Its code is what clients see as `extensions.code`; the
 * GraphQL edge (src/graphql/errors.ts) maps it, and everything that is not an AppError becomes an
 * opaque INTERNAL_SERVER_ERROR.
 */
export type ErrorCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'SERVICE_UNAVAILABLE';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const unauthenticated = (message = 'A valid bearer token is required') =>
  new AppError('UNAUTHENTICATED', message);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const badInput = (message: string) => new AppError('BAD_USER_INPUT', message);
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
/** The instance is at capacity: nothing was done, and the same request may be sent again later. */
export const serviceUnavailable = (message: string) => new AppError('SERVICE_UNAVAILABLE', message);
