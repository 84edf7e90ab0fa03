import type { EntityManager } from '@mikro-orm/postgresql';
import { Clinician } from '../entities';
import { newId } from '../ids';
import { Remembered } from './remembered';
import type { Identity } from './tokens';

/** Signed-in clinicians remembered at most, the oldest forgotten first. */
const REMEMBERED_CLINICIANS = 10_000;
/** Longest a clinician's row is taken as it was read, as long as a verified token is remembered. */
const REMEMBERED_SECONDS = 300;

/**
 * The clinician a request acts as: their row's fields, not an entity of the request's EntityManager
 * (mapping one for every request was a tenth of MikroORM's share of a small read; a write that points
 * at the clinician takes a reference by id).
 */
export type SignedInClinician = Pick<Clinician, 'id' | 'sub' | 'email' | 'name' | 'role'>;

/** Turns a verified identity into the clinician a request acts as. */
export type ProvisionClinician = (em: EntityManager, identity: Identity) => Promise<SignedInClinician>;

const signedIn = ({ id, sub, email, name, role }: SignedInClinician): SignedInClinician => ({
  id,
  sub,
  email,
  name,
  role,
});

/**
 * Just-in-time provisioning: the clinician record follows the identity provider's claims, keyed by
 * `sub`; a write only on first sight or when a claim changed.
 *
 * A front end sends the same claims with every request, and reading the clinician's row again for
 * each was one of a read's few statements. A row already in step with exactly these claims is
 * remembered (per server: each has its own database) and handed to each request without a
 * statement, until the token expires or `REMEMBERED_SECONDS` pass. Other claims for the
 * same `sub` (a new name or role in a newer token) miss and are read and written as before. Rows are
 * never deleted, and a clinician's id never changes, so what is remembered cannot point elsewhere.
 */
export function clinicianProvisioning(): ProvisionClinician {
  const remembered = new Remembered<SignedInClinician>(REMEMBERED_CLINICIANS);
  return async (em, identity) => {
    const email = identity.email.toLowerCase();
    const claims = JSON.stringify([identity.sub, email, identity.name, identity.role]);
    const known = remembered.get(claims);
    if (known) return { ...known };

    // By hand: building this statement through the query builder cost more than running it.
    const [row] = await em
      .getConnection()
      .execute<Record<string, unknown>[]>('select * from clinician where sub = ?', [identity.sub]);
    if (row) {
      const existing = em.map(Clinician, { ...row });
      if (existing.email !== email || existing.name !== identity.name || existing.role !== identity.role) {
        existing.email = email;
        existing.name = identity.name;
        existing.role = identity.role;
        await em.flush();
        return signedIn(existing);
      }
      const clinician = signedIn(existing);
      remembered.set(claims, clinician, Math.min(identity.expiresAt, Date.now() / 1000 + REMEMBERED_SECONDS));
      return { ...clinician };
    }
    const created = new Date();
    // Two first requests of one user can race; the unique `sub` settles it and both get the same row.
    return signedIn(
      await em.upsert(
        Clinician,
        {
          id: newId(),
          sub: identity.sub,
          email,
          name: identity.name,
          role: identity.role,
          createdAt: created,
          updatedAt: created,
        },
        { onConflictFields: ['sub'], onConflictExcludeFields: ['id', 'createdAt'] },
      ),
    );
  };
}
