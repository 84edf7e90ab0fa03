import { Migration } from '@mikro-orm/migrations';

/**
 * Which Yjs client ids of a plan's live document belong to which clinician. An update written under
 * another editor's client id takes clock values that editor's next edits need, so the server refuses
 * it; that needs the owner of every id, after a reload, a restart and on every instance, while a
 * snapshot keeps no author. A row is written, in the same transaction, with the first update stored
 * after the id was claimed (by writing under it or announcing presence with it). A null clinician is the server itself (its re-insertion of what a refused update
 * deleted, GraphQL edits). Ids written only in updates stored before this migration get no row: a snapshot cannot say who
 * wrote them; the first to write under one again claims it.
 */
export class Migration20261201220700_plan_clients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table plan_client (
        plan_id uuid not null references treatment_plan (id),
        client_id bigint not null check (client_id between 0 and 4294967295),
        clinician_id uuid references clinician (id),
        primary key (plan_id, client_id)
      );
    `);
  }
}
