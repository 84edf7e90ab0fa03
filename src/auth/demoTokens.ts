import type { Role } from '../domain/roles';
import type { TokenService } from './tokens';

/** A clinician the demo seed created, as its token claims. */
export interface DemoClinician {
  sub: string;
  email: string;
  name: string;
  role: Role;
}

export interface DemoSignIn {
  name: string;
  email: string;
  role: Role;
  token: string;
  /** ISO-8601: when the token stops working. */
  expiresAt: string;
}

/**
 * Development only, and only where demo data was seeded: fresh bearer tokens for the demo clinicians.
 * Startup prints them, `GET /dev/demo-tokens` hands them to the care board's sign-in picker (and any
 * other page of this server's own origin).
 */
export type DemoTokens = () => Promise<DemoSignIn[]>;

const DEMO_TOKEN_SECONDS = 24 * 60 * 60;

export function demoTokenIssuer(
  sign: NonNullable<TokenService['sign']>,
  clinicians: readonly DemoClinician[],
): DemoTokens {
  return () =>
    Promise.all(
      clinicians.map(async ({ sub, email, name, role }) => ({
        name,
        email,
        role,
        token: await sign({ sub, email, name, role }, DEMO_TOKEN_SECONDS),
        expiresAt: new Date(Date.now() + DEMO_TOKEN_SECONDS * 1000).toISOString(),
      })),
    );
}
