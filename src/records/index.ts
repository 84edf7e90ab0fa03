import type { EntityManager } from '@mikro-orm/postgresql';
import { CareTeamAccess } from '../auth/access';
import type { Clinician } from '../entities';
import { AuditRecords } from './audit';
import { PatientRecords } from './patients';
import { RequestScope } from './scope';

/**
 * Everything one authenticated request may read or change, already scoped to its clinician.
 * Resolvers reach data only through this object.
 */
export interface Records {
  scope: RequestScope;
  patients: PatientRecords;
  audit: AuditRecords;
}

export function recordsFor(em: EntityManager, clinician: Clinician, requestId: string): Records {
  const scope = new RequestScope(em, clinician, requestId);
  const access = new CareTeamAccess(clinician);
  return {
    scope,
    patients: new PatientRecords(scope, access),
    audit: new AuditRecords(scope, access),
  };
}
