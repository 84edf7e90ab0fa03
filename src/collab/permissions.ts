import * as Y from 'yjs';
import { isPlanSection, PLAN_SECTIONS, sectionRefusal } from '../domain/plans';
import type { Role } from '../domain/roles';
import type { ClientOwners } from './persistence';
import { neutralisedUpdate, restoreDeleted, senderRevert, type UpdateEffect } from './refusal';

/** Kinds of content a section (a Y.Text) holds: text, formatting marks, embeds, nested types. */
const TEXT_CONTENT = [Y.ContentString, Y.ContentFormat, Y.ContentEmbed, Y.ContentType, Y.ContentDeleted];

/**
 * Decides on updates from clients by what they do, not by what their structs claim.
 *
 * A Yjs update is a list of structs whose parent, position and even clock range are only hints:
 * Yjs skips the part of a struct the document already has and attaches the rest after the item at the
 * previous clock, wherever that is; it keeps structs and deletions whose references are missing
 * pending, and integrates them later, when someone else's update supplies the reference. So every
 * update is first integrated into `trial`, a replica of the document, and judged by the result: which
 * root each new item ended up in (its linked-list neighbours must agree with the parent it names, and
 * it must sit between its own origins, `betweenOrigins`), which visible items it deleted, whether
 * anything stayed pending (an honest client never builds on something the server lacks: the server
 * stores before it relays), and whose Yjs client ids it wrote as. An accepted update is then applied to the document itself; after a refusal the trial, which
 * took the refused structs, is rebuilt from the document before the next update.
 *
 * Yjs client ids are claimed: by the editor who first writes or announces presence with one, and
 * the server's own. An update that writes as another editor's client id would take clock values that
 * editor's next edits need (they would be dropped as already known), so it is refused and nothing of
 * it is kept. Claims are stored with the next update (`takeClaims`), so they hold after a reload and
 * on every instance: `stored` are the owners as loaded, `adopt` takes what other instances stored.
 */
export class UpdateGate {
  private trial: Y.Doc;
  private stale = false;
  /** Yjs client id -> the clinician who owns it; SERVER for the server's (this and earlier loads). */
  private readonly owners = new Map<number, string>();
  /** Client ids whose owner is stored. */
  private readonly saved = new Set<number>();

  constructor(
    private readonly doc: Y.Doc,
    stored: ClientOwners = new Map(),
  ) {
    this.trial = replicaOf(doc);
    this.adopt(stored);
    if (!this.owners.has(doc.clientID)) this.owners.set(doc.clientID, SERVER);
    // Whatever else changes the document (the server's own edits, other instances' updates) reaches
    // the trial too; an accepted client update is applied to the trial first.
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== TRIED && !this.stale) Y.applyUpdate(this.trial, update);
    });
    doc.on('destroy', () => this.trial.destroy());
  }

  /** Claims `client` for `clinicianId`; false when another editor (or the server) owns it. */
  claim(client: number, clinicianId: string): boolean {
    const owner = this.owners.get(client);
    if (owner === undefined) this.owners.set(client, clinicianId);
    return owner === undefined || owner === clinicianId;
  }

  /**
   * Owners as stored (by this instance or another): an id nobody here claimed yet takes its stored
   * owner. One claimed here meanwhile keeps its claim; the stored one wins once this is reloaded.
   */
  adopt(stored: ClientOwners): void {
    for (const [client, owner] of stored) {
      if (!this.owners.has(client)) this.owners.set(client, owner ?? SERVER);
      this.saved.add(client);
    }
  }

  /** Claims not stored yet, for the next append (null: the server's); they count as stored after. */
  takeClaims(): ClientOwners {
    const claims: ClientOwners = new Map();
    for (const [client, owner] of this.owners) {
      if (this.saved.has(client)) continue;
      claims.set(client, owner === SERVER ? null : owner);
      this.saved.add(client);
    }
    return claims;
  }

  /**
   * Decides on `update` from `author` and changes the document accordingly: applies it, or, refused,
   * applies what stands in for it and restores what it deleted (`refusal.ts`). Throws when Yjs
   * cannot read or integrate it; the document is then unchanged.
   */
  receive(author: { id: string; role: Role }, update: Uint8Array): Decision {
    const { effect, integrated } = this.effectOf(update, author.id);
    const refusal = refusalOf(author.role, effect);
    if (refusal === undefined) {
      if (!integrated) return { sections: effect.roots };
      for (const { struct } of effect.fresh) this.owners.set(struct.id.client, author.id);
      // What the trial integrated, not the update as sent: structs Yjs skipped, and the root types
      // they name, never reach the document.
      return {
        accepted: captureUpdate(this.doc, () => Y.applyUpdate(this.doc, integrated, TRIED)),
        sections: effect.roots,
      };
    }
    this.stale = true;
    if (!effect.ownClients) return { refusal, sections: new Set() };
    for (const { struct } of effect.fresh) this.owners.set(struct.id.client, author.id);
    const neutral = neutralisedUpdate(effect);
    return {
      refusal,
      sections: effect.roots,
      emptied: neutral && captureUpdate(this.doc, () => Y.applyUpdate(this.doc, neutral)),
      revert: senderRevert(effect),
      restored: captureUpdate(this.doc, () => restoreDeleted(this.doc, effect.deletes, this)),
    };
  }

  /** Integrates `update` into the trial and reports what it did, and the update it made there. */
  private effectOf(
    update: Uint8Array,
    clinicianId: string,
  ): { effect: UpdateEffect; integrated: Uint8Array | undefined } {
    if (this.stale) {
      this.trial.destroy();
      this.trial = replicaOf(this.doc);
      this.stale = false;
    }
    const trial = this.trial;
    const roots = trial.share.size;
    const mayWrite = (client: number) => [undefined, clinicianId].includes(this.owners.get(client));
    let effect: UpdateEffect | undefined;
    let integrated: Uint8Array | undefined;
    try {
      integrated = captureUpdate(trial, () =>
        trial.transact((transaction) => {
          Y.applyUpdate(trial, update);
          effect = inspect(trial, transaction, mayWrite);
        }),
      );
    } catch (error) {
      this.stale = true;
      throw error;
    }
    // Decoding alone creates the root types an update names; the trial does not keep them.
    if (trial.share.size !== roots) this.stale = true;
    return { effect: effect!, integrated };
  }
}

/** What the server does with an update from a client. */
export interface Decision {
  /** The update as applied, to be stored and relayed to everyone but its author. */
  accepted?: Uint8Array;
  /** Why it was refused: the author is sent a permission-denied message with it. */
  refusal?: string;
  /** Refused: the structure the document took in its place, stored and sent to everyone. */
  emptied?: Uint8Array;
  /** Refused: for the author alone, deletes what it inserted. */
  revert?: Uint8Array;
  /** Refused: the server's re-insertion of the visible content it deleted, stored and sent to everyone. */
  restored?: Uint8Array;
  /** Sections it changed (accepted) or tried to (refused). */
  sections: Set<string>;
}

/** Runs `change` on the document and returns the update it made, if any. */
export function captureUpdate(doc: Y.Doc, change: () => void): Uint8Array | undefined {
  let captured: Uint8Array | undefined;
  const listen = (update: Uint8Array) => (captured = captured ? Y.mergeUpdates([captured, update]) : update);
  doc.on('update', listen);
  try {
    change();
  } finally {
    doc.off('update', listen);
  }
  return captured;
}

const SERVER = '\0server';
const TRIED = Symbol('tried');

function replicaOf(doc: Y.Doc): Y.Doc {
  const replica = new Y.Doc({ gc: true });
  for (const { key } of PLAN_SECTIONS) replica.getText(key);
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
  return replica;
}

/** Reads, inside the transaction that integrated an update, what it did. */
function inspect(
  doc: Y.Doc,
  transaction: Y.Transaction,
  mayWrite: (client: number) => boolean,
): UpdateEffect {
  const effect: UpdateEffect = {
    roots: new Set(),
    malformed: undefined,
    ownClients: true,
    fresh: [],
    deletes: [],
  };
  const refuse = (why: string) => (effect.malformed ??= why);
  const order = new SequenceOrder();
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
    refuse('the change refers to content this document does not have');
  }
  for (const [client, structs] of doc.store.clients) {
    const before = transaction.beforeState.get(client) ?? 0;
    if (Y.getState(doc.store, client) <= before) continue;
    if (!mayWrite(client)) effect.ownClients = false;
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i];
      if (!(struct instanceof Y.Item)) {
        effect.fresh.push({ struct, root: null, nested: false, keepsPlace: false });
        continue;
      }
      const { root, nested } = rootOf(struct.parent as Y.AbstractType<unknown>);
      effect.roots.add(root);
      // The item sits in the list of its left (or right) neighbour, whatever parent it names.
      let consistent = true;
      for (const neighbour of [struct.left, struct.right]) {
        if (
          neighbour === null ||
          (neighbour.parent === struct.parent && neighbour.parentSub === struct.parentSub)
        )
          continue;
        consistent = false;
        effect.roots.add(rootOf(neighbour.parent as Y.AbstractType<unknown>).root);
      }
      if (!consistent) refuse('an item names a parent other than the one it is placed in');
      else if (!betweenOrigins(doc.store, struct, order)) {
        consistent = false;
        refuse('an item is not placed between its own origins');
      }
      const direct = !nested && isPlanSection(root);
      if (struct.content instanceof Y.ContentDoc) refuse('subdocuments are not part of the treatment plan');
      else if (
        direct &&
        (struct.parentSub !== null || !TEXT_CONTENT.some((kind) => struct.content instanceof kind))
      )
        refuse(`section "${root}" holds text only`);
      effect.fresh.push({
        struct,
        root,
        nested,
        keepsPlace: consistent && direct && struct.parentSub === null,
      });
    }
  }
  // Only items that were visible before this update; its own items count as insertions above.
  for (const [client, deleted] of transaction.deleteSet.clients) {
    const before = transaction.beforeState.get(client) ?? 0;
    for (const { clock, len } of deleted) {
      if (clock >= before) continue;
      const item = Y.getItem(doc.store, Y.createID(client, clock));
      if (item instanceof Y.Item) effect.roots.add(rootOf(item.parent as Y.AbstractType<unknown>).root);
      effect.deletes.push({ client, clock, length: len });
    }
  }
  return effect;
}

/**
 * Whether `item` sits after the item holding its origin and before the one holding its right origin, in
 * its own sequence (its parent's list, or the values of its key), as every item an editor makes does:
 * Yjs places it between the two, after any concurrent insertions there. Where Yjs puts an item whose
 * origins say otherwise (named the wrong way round, or in another sequence) depends on how the
 * replica's structs happen to be split, so a replica that loads the stored document, or that got the
 * text in other pieces, reads it elsewhere than the server does, for good.
 */
function betweenOrigins(store: Y.Doc['store'], item: Y.Item, order: SequenceOrder): boolean {
  const left = item.origin && Y.getItem(store, item.origin);
  const right = item.rightOrigin && Y.getItem(store, item.rightOrigin);
  // Typing with nothing concurrent: the origins are the neighbours (checked first, it is the usual case).
  if ((left === null || left === item.left) && (right === null || right === item.right)) return true;
  return (
    (left === null || (left instanceof Y.Item && order.before(left, item))) &&
    (right === null || (right instanceof Y.Item && order.before(item, right)))
  );
}

/** Positions of items in their sequences, each sequence numbered once, when first asked about. */
class SequenceOrder {
  private readonly places = new Map<Y.Item, { first: Y.Item; index: number }>();

  /** Whether `a` comes before `b` in one sequence. */
  before(a: Y.Item, b: Y.Item): boolean {
    const [p, q] = [this.place(a), this.place(b)];
    return p.first === q.first && p.index < q.index;
  }

  private place(item: Y.Item): { first: Y.Item; index: number } {
    const known = this.places.get(item);
    if (known) return known;
    let first = item;
    while (first.left !== null) first = first.left;
    let index = 0;
    for (let at: Y.Item | null = first; at !== null; at = at.right)
      this.places.set(at, { first, index: index++ });
    return this.places.get(item)!;
  }
}

function rootOf(type: Y.AbstractType<unknown>): { root: string; nested: boolean } {
  let nested = false;
  while (type._item !== null) {
    nested = true;
    type = type._item.parent as Y.AbstractType<unknown>;
  }
  return { root: Y.findRootTypeKey(type), nested };
}

/** Why `role` may not make this change, naming each section it may not touch; undefined if it may. */
function refusalOf(role: Role, effect: UpdateEffect): string | undefined {
  const reasons = [
    ...(effect.ownClients ? [] : ['the change writes as another editor']),
    ...(effect.malformed === undefined ? [] : [effect.malformed]),
    ...[...effect.roots].sort().flatMap((root) => sectionRefusal(role, root) ?? []),
  ];
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
