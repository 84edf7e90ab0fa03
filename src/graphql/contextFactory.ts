import type { ProvisionClinician } from '../auth/provision';
import { bearerToken, type TokenService } from '../auth/tokens';
import type { Orm } from '../db/orm';
import { recordsFor, type RecordServices } from '../records';
import type { GraphQLContext } from './context';

export type ContextFactory = (authorization: unknown, requestId: string) => Promise<GraphQLContext>;

/**
 * Authenticates a request (HTTP request or graphql-ws operation) and gives it its own
 * EntityManager fork and scoped records. Throws UNAUTHENTICATED for any token it cannot trust.
 */
export function contextFactory(
  orm: Orm,
  tokens: TokenService,
  provisionClinician: ProvisionClinician,
  services: RecordServices,
): ContextFactory {
  return async (authorization, requestId) => {
    const identity = await tokens.verify(bearerToken(authorization));
    const em = orm.em.fork();
    const clinician = await provisionClinician(em, identity);
    return { requestId, identity, clinician, records: recordsFor(em, clinician, requestId, services) };
  };
}
