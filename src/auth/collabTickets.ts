import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '../errors';

/** How long a ticket may wait between `collabTicket` and the WebSocket upgrade. */
const COLLAB_TICKET_SECONDS = 60;

/** 32 random bytes, base64url: what `collabTicket` hands out and `?ticket=` brings back. */
const TICKET = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

export interface IssuedTicket {
  ticket: string;
  expiresAt: Date;
}

/**
 * A single-use ticket that opens one plan's live document as one clinician, for 60 seconds (never
 * past the issuing token's own expiry). Stored as its hash in `collab_ticket`, so any instance can
 * redeem it. Runs in the caller's transaction, which also holds the issue's audit entry.
 */
export async function issueCollabTicket(
  em: EntityManager,
  grant: { planId: string; clinicianId: string; tokenExpiresAt: Date },
): Promise<IssuedTicket> {
  const ticket = randomBytes(32).toString('base64url');
  // Tickets nobody redeemed are dropped as new ones are issued: the table holds about a minute's worth.
  await em.execute('delete from collab_ticket where expires_at < statement_timestamp()');
  const [row] = await em.execute<{ expires_at: Date }[]>(
    `insert into collab_ticket (ticket_hash, plan_id, clinician_id, expires_at, token_expires_at)
     values (decode(?, 'hex'), ?, ?, least(statement_timestamp() + make_interval(secs => ?), ?::timestamptz), ?::timestamptz)
     returning expires_at`,
    [
      hashOf(ticket),
      grant.planId,
      grant.clinicianId,
      COLLAB_TICKET_SECONDS,
      grant.tokenExpiresAt.toISOString(),
      grant.tokenExpiresAt.toISOString(),
    ],
  );
  return { ticket, expiresAt: new Date(row.expires_at) };
}

/**
 * Redeems a ticket for the plan it was issued for: the row is deleted in the same statement that
 * finds it, so of any number of connections presenting one ticket (on any instance) exactly one
 * gets it. UNAUTHENTICATED for a ticket that is unknown, spent, expired or for another plan.
 */
export async function redeemCollabTicket(
  em: EntityManager,
  ticket: string,
  planId: string,
): Promise<{ clinicianId: string; tokenExpiresAt: Date }> {
  const refused = unauthenticated(
    'The collab ticket is not valid (tickets are single-use and expire after 60 seconds)',
  );
  if (!TICKET.test(ticket) || !UUID.test(planId)) throw refused;
  const rows = await em.execute<{ clinician_id: string; token_expires_at: Date }[]>(
    `delete from collab_ticket where ticket_hash = decode(?, 'hex') and plan_id = ? and expires_at > statement_timestamp()
     returning clinician_id, token_expires_at`,
    [hashOf(ticket), planId.toLowerCase()],
  );
  if (rows.length === 0) throw refused;
  return { clinicianId: rows[0].clinician_id, tokenExpiresAt: new Date(rows[0].token_expires_at) };
}
