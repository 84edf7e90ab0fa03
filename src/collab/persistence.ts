import type { Knex } from '@mikro-orm/postgresql';
import * as Y from 'yjs';
import { PLAN_SECTIONS } from '../domain/plans';
import type { CareEvent } from '../events/events';
import { announce, appendAudit } from '../events/journal';

/** One accepted change to a plan's document, as it is appended to the log. */
export interface PlanChange {
  update: Uint8Array;
  /** The sender; null for the server's own changes. */
  clinicianId: string | null;
  requestId: string;
}

/** Who a Yjs client id of a plan's document belongs to: a clinician's id, or null for the server. */
export type ClientOwners = Map<number, string | null>;

export interface LoadedPlan {
  doc: Y.Doc;
  /** Stored updates applied on top of the snapshot: compaction is due when they pile up. */
  tail: number;
  /** The owners of the client ids the document was written under (the `UpdateGate` refuses others). */
  owners: ClientOwners;
}

/**
 * The live document's storage: an append-only log of accepted updates per plan, plus one snapshot
 * that compaction writes and that covers every update up to `through_update_id`. SQL through knex
 * with bound parameters, so update bytes travel as bytea, never inlined into SQL text.
 */
export class PlanStore {
  constructor(private readonly knex: Knex) {}

  /**
   * The document as stored: snapshot, then every later update in order, and its client ids' owners.
   * Read as of one moment (repeatable read), so a compaction committing in between cannot delete
   * updates after the snapshot was read and before the log was.
   */
  async load(planId: string): Promise<LoadedPlan> {
    const { doc, tail, owners } = await this.knex.transaction(
      async (trx) => ({ ...(await readStored(trx, planId)), owners: await ownersOf(trx, planId) }),
      {
        isolationLevel: 'repeatable read',
        readOnly: true,
      },
    );
    // Root types exist untyped until asked for; the sections are Y.Text, which restoring refused
    // deletions relies on.
    for (const { key } of PLAN_SECTIONS) doc.getText(key);
    return { doc, tail: tail.length, owners };
  }

  /** The owners of the plan's client ids as stored (what other instances claimed included). */
  async owners(planId: string): Promise<ClientOwners> {
    return ownersOf(this.knex, planId);
  }

  /**
   * Appends changes in one transaction, with the owners of client ids not stored before (a claim
   * already stored keeps its owner) and the NOTIFY that tells other instances (ids only), and
   * returns their ids. Committed before anyone is sent them.
   */
  async append(
    planId: string,
    patientId: string,
    changes: PlanChange[],
    sections: string[],
    claims: ClientOwners = new Map(),
  ): Promise<string[]> {
    return this.knex.transaction(async (trx) => {
      const inserted = await trx.raw<{ rows: { id: string }[] }>(
        `insert into plan_update (plan_id, update, clinician_id) values ${changes.map(() => '(?, ?, ?)').join(', ')} returning id`,
        changes.flatMap((c) => [planId, Buffer.from(c.update), c.clinicianId]),
      );
      const ids = inserted.rows.map((r) => r.id);
      if (claims.size > 0) {
        await trx.raw(
          `insert into plan_client (plan_id, client_id, clinician_id) values ${[...claims].map(() => '(?, ?, ?)').join(', ')} on conflict do nothing`,
          [...claims].flatMap(([client, owner]) => [planId, client, owner]),
        );
      }
      await trx.raw('update treatment_plan set updated_at = now() where id = ?', [planId]);
      // One audit entry per sender and connection (or request) in the batch, in the same transaction.
      const authors = new Map(
        changes.filter((c) => c.clinicianId !== null).map((c) => [`${c.clinicianId} ${c.requestId}`, c]),
      );
      await appendAudit(
        trx,
        [...authors.values()].map((c) => ({
          clinician: c.clinicianId!,
          action: 'plan.edit' as const,
          patientId,
          entity: 'TreatmentPlan',
          entityId: planId,
          requestId: c.requestId,
        })),
      );
      const events: CareEvent[] = [
        { type: 'planUpdated', id: ids.at(-1)!, patientId, planId, updateIds: ids },
      ];
      for (const section of sections)
        events.push({
          type: 'planSectionChanged',
          id: `${ids.at(-1)}:${section}`,
          patientId,
          planId,
          section,
        });
      await announce(trx, events);
      return ids;
    });
  }

  /** Stored updates by id (what another instance appended), in order. */
  async fetch(ids: string[]): Promise<Uint8Array[]> {
    const result = await this.knex.raw<{ rows: { update: Buffer }[] }>(
      `select update from plan_update where id in (${ids.map(() => '?').join(', ')}) order by id`,
      ids,
    );
    return result.rows.map((r) => new Uint8Array(r.update));
  }

  /**
   * Folds the log into the snapshot, through a document with garbage collection on (merging updates
   * byte-wise would keep deleted content), and deletes the updates it now covers. The plan row is
   * locked first: every append holds a key-share lock on it through its foreign key, so no update
   * with a smaller id can still be uncommitted while the log is read.
   */
  async compact(planId: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx.raw('select id from treatment_plan where id = ? for update', [planId]);
      const { doc, tail } = await readStored(trx, planId);
      if (tail.length === 0) return doc.destroy();
      const through = tail.at(-1)!;
      await trx.raw(
        `insert into plan_snapshot (plan_id, state, through_update_id) values (?, ?, ?)
         on conflict (plan_id) do update set state = excluded.state, through_update_id = excluded.through_update_id, created_at = now()`,
        [planId, Buffer.from(Y.encodeStateAsUpdate(doc)), through],
      );
      await trx.raw('delete from plan_update where plan_id = ? and id <= ?', [planId, through]);
      doc.destroy();
    });
  }
}

async function ownersOf(db: Knex | Knex.Transaction, planId: string): Promise<ClientOwners> {
  const rows = await db.raw<{ rows: { client_id: string; clinician_id: string | null }[] }>(
    'select client_id, clinician_id from plan_client where plan_id = ?',
    [planId],
  );
  return new Map(rows.rows.map((r) => [Number(r.client_id), r.clinician_id]));
}

/** Snapshot and later updates of a plan, applied to a fresh document with garbage collection on. */
async function readStored(
  db: Knex | Knex.Transaction,
  planId: string,
): Promise<{ doc: Y.Doc; tail: string[] }> {
  const doc = new Y.Doc({ gc: true });
  const snapshot = await db.raw<{ rows: { state: Buffer; through_update_id: string }[] }>(
    'select state, through_update_id from plan_snapshot where plan_id = ?',
    [planId],
  );
  const tail = await db.raw<{ rows: { id: string; update: Buffer }[] }>(
    'select id, update from plan_update where plan_id = ? and id > ? order by id',
    [planId, snapshot.rows[0]?.through_update_id ?? '0'],
  );
  doc.transact(() => {
    if (snapshot.rows[0]) Y.applyUpdate(doc, snapshot.rows[0].state);
    for (const row of tail.rows) Y.applyUpdate(doc, row.update);
  });
  // What an earlier version stored of a hostile update may reference structs nobody sent; held
  // pending, it would be integrated into someone's later edit. Updates are now refused for that.
  doc.store.pendingStructs = null;
  doc.store.pendingDs = null;
  return { doc, tail: tail.rows.map((row) => row.id) };
}
