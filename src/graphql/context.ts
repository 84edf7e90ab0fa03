import type { SignedInClinician } from '../auth/provision';
import type { Identity } from '../auth/tokens';
import type { Records } from '../records';

/** What every resolver receives: who is asking, and the records scoped to them. */
export interface GraphQLContext {
  requestId: string;
  identity: Identity;
  clinician: SignedInClinician;
  records: Records;
}
