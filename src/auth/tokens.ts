import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { JwtConfig } from '../config/config';
import { Role, roleFromClaim } from '../domain/roles';
import { textRefusal } from '../domain/text';
import { unauthenticated } from '../errors';
import { Remembered } from './remembered';

/** Who a verified token says the caller is. */
export interface Identity {
  sub: string;
  email: string;
  name: string;
  role: Role;
  /** Seconds since the epoch: long-lived sockets re-check it. */
  expiresAt: number;
}

export interface TokenService {
  verify(token: string): Promise<Identity>;
  /** Only where this server holds the signing key (HS256): demo tokens and tests. */
  sign?(
    claims: { sub: string; email: string; name: string; role: Role },
    ttlSeconds: number,
  ): Promise<string>;
}

export async function createTokenService(config: JwtConfig, dataDir: string): Promise<TokenService> {
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ['exp', 'sub'],
  };
  if (config.kind === 'jwks') {
    const keys = createRemoteJWKSet(config.jwksUrl);
    return {
      verify: remembering((token) =>
        verifyWith(() => jwtVerify(token, keys, { ...options, algorithms: ['RS256', 'ES256'] })),
      ),
    };
  }
  const secret = config.kind === 'secret' ? config.secret : await developmentSecret(dataDir);
  const key = new TextEncoder().encode(secret);
  // Imported once: handed the bytes, jose would import the key again for every token it checks.
  const verifyKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  return {
    verify: remembering((token) =>
      verifyWith(() => jwtVerify(token, verifyKey, { ...options, algorithms: ['HS256'] })),
    ),
    async sign(claims, ttlSeconds) {
      let jwt = new SignJWT({ email: claims.email, name: claims.name, role: claims.role.toLowerCase() })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
      if (config.issuer) jwt = jwt.setIssuer(config.issuer);
      if (config.audience) jwt = jwt.setAudience(config.audience);
      return jwt.sign(key);
    },
  };
}

/** Tokens remembered at most, the oldest forgotten first. */
const REMEMBERED_TOKENS = 10_000;
/**
 * Longest a verified token is taken on its earlier check: less than jose keeps a key set fetched from
 * a JWKS endpoint (10 minutes), so a key withdrawn there stops being accepted no later than it would.
 */
const REMEMBERED_SECONDS = 300;

/**
 * A front end sends the same token with every request until it expires; checking its signature
 * again each time was a tenth of a small request's CPU. A token checked once is taken as it was,
 * until it expires or `REMEMBERED_SECONDS` pass; whatever failed is checked afresh every time.
 */
function remembering(verify: (token: string) => Promise<Identity>): (token: string) => Promise<Identity> {
  const verified = new Remembered<Identity>(REMEMBERED_TOKENS);
  return async (token) => {
    const known = verified.get(token);
    if (known) return { ...known };
    const identity = await verify(token);
    verified.set(token, identity, Math.min(identity.expiresAt, Date.now() / 1000 + REMEMBERED_SECONDS));
    return { ...identity };
  };
}

/** "Bearer <jwt>" from a header or connection parameter; anything else is unauthenticated. */
export function bearerToken(header: unknown): string {
  if (typeof header !== 'string') throw unauthenticated();
  const match = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*)\s*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <jwt>"');
  return match[1];
}

async function verifyWith(verify: () => Promise<{ payload: JWTPayload }>): Promise<Identity> {
  let payload: JWTPayload;
  try {
    ({ payload } = await verify());
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired');
    if (error instanceof joseErrors.JOSEError) throw unauthenticated('The token is not valid');
    throw error;
  }
  return identityFromClaims(payload);
}

function identityFromClaims(payload: JWTPayload): Identity {
  const { sub, email, name, exp } = payload;
  const role = roleFromClaim(payload.role);
  const text = (value: unknown) =>
    typeof value === 'string' && value.trim().length > 0 && value.length <= 320;
  if (!text(sub) || !text(email) || !text(name) || role === undefined || typeof exp !== 'number') {
    throw unauthenticated(
      'The token must carry sub, email, name, exp and a role of prescriber, therapist or admin',
    );
  }
  // Claims become the clinician's record and what others see of them (presence in a document).
  for (const [claim, value] of [
    ['sub', sub],
    ['email', email],
    ['name', name],
  ] as const) {
    const refusal = textRefusal(value as string, 'line');
    if (refusal) throw unauthenticated(`The token's ${claim} claim ${refusal}`);
  }
  return {
    sub: sub as string,
    email: (email as string).trim(),
    name: (name as string).trim(),
    role,
    expiresAt: exp,
  };
}

/** Generated on first start and kept, so development tokens survive restarts. Never in production. */
async function developmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'jwt-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error) => {
    // Another process won the race to create it: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  return (await readFile(file, 'utf8')).trim();
}
