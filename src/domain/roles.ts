/** Who a clinician is in the collaborative-care model. Token claims carry the lower-case form. */
export enum Role {
  PRESCRIBER = 'PRESCRIBER',
  THERAPIST = 'THERAPIST',
  ADMIN = 'ADMIN',
}

/** Roles that hold clinical responsibility and so may join a care team. */
export const CLINICAL_ROLES: readonly Role[] = [Role.PRESCRIBER, Role.THERAPIST];

export function roleFromClaim(claim: unknown): Role | undefined {
  if (typeof claim !== 'string') return undefined;
  const upper = claim.toUpperCase();
  return (Object.values(Role) as string[]).includes(upper) ? (upper as Role) : undefined;
}
