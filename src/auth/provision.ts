import type { EntityManager } from '@mikro-orm/postgresql';
import { Clinician } from '../entities';
import { newId } from '../ids';
import type { Identity } from './tokens';

/**
 * Just-in-time provisioning: the clinician record follows the identity provider's claims, keyed by
 * `sub`. One SELECT on the common path; a write only on first sight or when a claim changed.
 */
export async function provisionClinician(em: EntityManager, identity: Identity): Promise<Clinician> {
  const email = identity.email.toLowerCase();
  // By hand: building this statement through the query builder cost more than running it, on every request.
  const [row] = await em
    .getConnection()
    .execute<Record<string, unknown>[]>('select * from clinician where sub = ?', [identity.sub]);
  if (row) {
    const existing = em.map(Clinician, row);
    if (existing.email !== email || existing.name !== identity.name || existing.role !== identity.role) {
      existing.email = email;
      existing.name = identity.name;
      existing.role = identity.role;
      await em.flush();
    }
    return existing;
  }
  const now = new Date();
  // Two first requests of one user can race; the unique `sub` settles it and both get the same row.
  return em.upsert(
    Clinician,
    {
      id: newId(),
      sub: identity.sub,
      email,
      name: identity.name,
      role: identity.role,
      createdAt: now,
      updatedAt: now,
    },
    { onConflictFields: ['sub'], onConflictExcludeFields: ['id', 'createdAt'] },
  );
}
