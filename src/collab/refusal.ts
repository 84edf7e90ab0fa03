import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** A clock range of one client's structs. */
export interface IdRange {
  client: number;
  clock: number;
  length: number;
}

/** A struct the update put into the document, as Yjs integrated it, and where it landed. */
export interface Integrated {
  struct: Y.Item | Y.GC;
  /** The root type it sits in; null for a garbage-collected placeholder. */
  root: string | null;
  /** True when it sits inside a nested type rather than directly in the root. */
  nested: boolean;
  /** True when it may stand in the document as a deleted item of its section (see `neutralisedUpdate`). */
  keepsPlace: boolean;
}

/** What an update did once Yjs integrated it into a copy of the document. */
export interface UpdateEffect {
  /** Root types it inserted into or deleted from. */
  roots: Set<string>;
  /** Why it is refused whatever the author's role (structure, not sections); undefined when it is not. */
  malformed: string | undefined;
  /** False when it wrote as a Yjs client another editor owns: then nothing of it may be kept. */
  ownClients: boolean;
  /** The structs it added, per client in clock order, as integrated. */
  fresh: Integrated[];
  /** Visible items of the document that it deleted. */
  deletes: IdRange[];
}

/**
 * What the server does with a refused update, so that its content never enters the document and yet
 * every replica stays converged.
 *
 * - The document still takes the structs the update added (as Yjs integrated them into the trial
 *   replica, `UpdateGate`), emptied: an item directly in a section becomes a deleted item without
 *   content (`ContentDeleted`, only its length survives), anything else (in a root that is not a
 *   section, inside a nested type, or an item whose neighbours disagree with the parent it names or
 *   that does not sit between its own origins) becomes a `GC` placeholder. Nothing is kept of an update that wrote as another editor. The document's
 *   clock for that client moves on, so the client's later updates, which build on those ids, are not
 *   left pending for ever; an item typed next to the refused text still finds its neighbour.
 * - The sender is told to delete what it inserted (`senderRevert`).
 * - What it deleted is restored by the server (`restoreDeleted`), which deletes the originals and
 *   inserts their text again at the same place, so the sender sees it again; others see no change.
 */
export function neutralisedUpdate(effect: UpdateEffect): Uint8Array | undefined {
  const byClient = new Map<number, (Y.Item | Y.GC)[]>();
  for (const { struct, keepsPlace } of effect.fresh) {
    const emptied = keepsPlace ? emptyItem(struct as Y.Item) : new Y.GC(struct.id, struct.length);
    const list = byClient.get(struct.id.client) ?? [];
    list.push(emptied);
    byClient.set(struct.id.client, list);
  }
  if (byClient.size === 0) return undefined;
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, list] of byClient) {
    encoding.writeVarUint(encoder.restEncoder, list.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, list[0].id.clock);
    for (const struct of list) struct.write(encoder, 0);
  }
  encoding.writeVarUint(encoder.restEncoder, 0); // no deletions
  return encoder.toUint8Array();
}

/** The item where it was integrated (its origins), without its content. */
function emptyItem(item: Y.Item): Y.Item {
  return new Y.Item(
    item.id,
    null,
    item.origin,
    null,
    item.rightOrigin,
    item.parent,
    item.parentSub,
    new Y.ContentDeleted(item.length),
  );
}

/** An update for the sender alone: delete everything of the refused update that the document took. */
export function senderRevert(effect: UpdateEffect): Uint8Array | undefined {
  const ranges = effect.fresh.map(({ struct }) => ({
    client: struct.id.client,
    clock: struct.id.clock,
    length: struct.length,
  }));
  return ranges.length > 0 ? deleteSetUpdate(ranges) : undefined;
}

function deleteSetUpdate(ranges: IdRange[]): Uint8Array {
  const byClient = new Map<number, IdRange[]>();
  for (const range of ranges) byClient.set(range.client, [...(byClient.get(range.client) ?? []), range]);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0); // no structs
  encoding.writeVarUint(encoder, byClient.size);
  for (const [client, list] of byClient) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, list.length);
    for (const { clock, length } of list.sort((a, b) => a.clock - b.clock)) {
      encoding.writeVarUint(encoder, clock);
      encoding.writeVarUint(encoder, length);
    }
  }
  return encoding.toUint8Array(encoder);
}

/**
 * Puts back, as the server's own change, the visible content a refused update deleted: each original
 * item's text is inserted again at the same index and the original deleted, so the document reads the same and
 * the sender, whose replica already lost the originals, gets the text back. A deleted formatting mark
 * or embedded type cannot be put back piecewise, so its section is rewritten whole from its delta.
 * Returns whether anything was restored.
 */
export function restoreDeleted(doc: Y.Doc, deletes: IdRange[], origin: unknown): boolean {
  let restored = false;
  if (deletes.length === 0) return restored;
  doc.transact((transaction) => {
    const items: Y.Item[] = [];
    const rewrite = new Set<Y.Text>();
    for (const { client, clock, length } of deletes) {
      Y.getItemCleanStart(transaction, Y.createID(client, clock));
      Y.getItemCleanEnd(transaction, doc.store, Y.createID(client, clock + length - 1));
      const structs = doc.store.clients.get(client)!;
      for (
        let i = Y.findIndexSS(structs, clock);
        i < structs.length && structs[i].id.clock < clock + length;
        i++
      ) {
        const struct = structs[i];
        if (!(struct instanceof Y.Item) || struct.deleted || !(struct.parent instanceof Y.Text)) continue;
        if (struct.content instanceof Y.ContentString || struct.content instanceof Y.ContentEmbed)
          items.push(struct);
        else rewrite.add(struct.parent);
      }
    }
    for (const text of rewrite) {
      const delta = text.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[];
      text.delete(0, text.length);
      text.applyDelta(
        delta.map((op) => (op.insert instanceof Y.AbstractType ? { ...op, insert: op.insert.clone() } : op)),
      );
      restored = true;
    }
    const kept = items.filter((i) => !rewrite.has(i.parent as Y.Text));
    // Each original is replaced by the same content at the same index with the same formatting, so
    // places found up front stay right: one pass over each section, not one per item.
    const places = placesOf(kept);
    for (const item of kept) {
      const text = item.parent as Y.Text;
      const { index, attributes } = places.get(item)!;
      const content = item.content;
      // The copy goes in right before the original, which is deleted after: text typed next to the
      // original (its right neighbours name it as origin) stays next to the copy. Its formatting is
      // given, not taken from the position: a mark that begins right at the original sits after the
      // index, so the position's formatting is the text's to the left.
      if (content instanceof Y.ContentString) {
        text.insert(index, content.str, attributes);
        text.delete(index + item.length, item.length);
        restored = true;
      } else if (content instanceof Y.ContentEmbed) {
        text.insertEmbed(index, content.embed as object, attributes);
        text.delete(index + item.length, item.length);
        restored = true;
      }
    }
  }, origin);
  return restored;
}

/** Where each item reads in its section: its index and the formatting in force there (as `toDelta`). */
function placesOf(items: Y.Item[]): Map<Y.Item, { index: number; attributes: Record<string, unknown> }> {
  const wanted = new Set(items);
  const places = new Map<Y.Item, { index: number; attributes: Record<string, unknown> }>();
  for (const text of new Set(items.map((i) => i.parent as Y.Text))) {
    let index = 0;
    const attributes = new Map<string, unknown>();
    for (let item = text._start; item !== null; item = item.right) {
      if (wanted.has(item)) places.set(item, { index, attributes: Object.fromEntries(attributes) });
      if (item.deleted) continue;
      if (item.content instanceof Y.ContentFormat) {
        const { key, value } = item.content;
        if (value === null) attributes.delete(key);
        else attributes.set(key, value);
      } else if (item.countable) index += item.length;
    }
  }
  return places;
}
