import { Migration } from '@mikro-orm/migrations';

/**
 * Single-use tickets for opening a plan's live document (`collabTicket`): a browser cannot set
 * headers on a WebSocket, so without them the bearer token would travel in the URL, where proxies
 * and browsers log it. Only the ticket's SHA-256 is kept, so this table leaks nothing usable. Kept
 * in the database rather than in memory because the instance that issues a ticket is often not the
 * one the socket reaches; a row is deleted as it is redeemed, which is what makes it single-use.
 */
export class Migration20261201174500_collab_tickets extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table collab_ticket (
        ticket_hash bytea primary key,
        plan_id uuid not null references treatment_plan (id),
        clinician_id uuid not null references clinician (id),
        -- The ticket's own expiry, by the database's clock, at most 60 s after it was issued.
        expires_at timestamptz not null,
        -- The issuing token's expiry: a connection opened with the ticket ends then.
        token_expires_at timestamptz not null
      );
      create index collab_ticket_expiry_idx on collab_ticket (expires_at);
    `);
  }
}
