import * as Y from 'yjs';
import { sectionRefusal } from '../domain/plans';
import type { Role } from '../domain/roles';

type Struct = Y.Item | Y.GC | Y.Skip;

/** A clock range of one client's structs. */
export interface IdRange {
  client: number;
  clock: number;
  length: number;
}

/** What an update from a client would do to the document, found before it is applied. */
export interface UpdateEffect {
  /** Root types the update would insert into or delete from. */
  roots: Set<string>;
  /** A reference (parent, origin, deleted id) that neither the document nor the update holds. */
  unresolved: boolean;
  /** Structs the document does not have yet, in client and clock order (with their root, if any). */
  fresh: { struct: Struct; root: string | null; nested: boolean }[];
  /** Visible items of the document that the update deletes. */
  deletes: IdRange[];
}

interface Resolved {
  /** The root type the struct belongs to; null when it has no effect (garbage-collected). */
  root: string | null;
  /** True when it sits inside a nested type rather than directly in the root. */
  nested: boolean;
}

const UNRESOLVED = Symbol('unresolved');

/**
 * Works out which root types an update touches, against the document it would be applied to.
 *
 * A Yjs update names the parent of an item only when it has no neighbours; otherwise the parent is
 * implied by the item's left or right origin, which may live in the document or earlier in the same
 * update, and a nested type's children name the item that holds the type. Each of those is followed
 * until a root is reached. Deletions touch the roots of the document items they cover, but only
 * items still visible: an honest client's sync message repeats deletions everyone already has.
 */
export function analyseUpdate(doc: Y.Doc, update: Uint8Array): UpdateEffect {
  const { structs, ds } = Y.decodeUpdate(update);
  const byClient = new Map<number, Struct[]>();
  for (const struct of structs as Struct[]) {
    const list = byClient.get(struct.id.client) ?? [];
    list.push(struct);
    byClient.set(struct.id.client, list);
  }
  const known = (client: number) => Y.getState(doc.store, client);
  const resolved = new Map<Struct, Resolved | typeof UNRESOLVED>();
  const visiting = new Set<Struct>();

  // Binary search: a client's structs come in clock order, and a 1 MiB update can hold 100,000 of them.
  const inUpdate = (id: Y.ID): Struct | undefined => {
    const list = byClient.get(id.client);
    if (!list) return undefined;
    let low = 0;
    let high = list.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const struct = list[mid];
      if (id.clock < struct.id.clock) high = mid - 1;
      else if (id.clock >= struct.id.clock + struct.length) low = mid + 1;
      else return struct;
    }
    return undefined;
  };

  const rootOfDocStruct = (struct: Y.Item | Y.GC): Resolved => {
    if (!(struct instanceof Y.Item)) return { root: null, nested: false };
    let type = struct.parent as Y.AbstractType<unknown>;
    let nested = false;
    while (type._item !== null) {
      nested = true;
      type = type._item.parent as Y.AbstractType<unknown>;
    }
    return { root: Y.findRootTypeKey(type), nested };
  };

  const resolveId = (id: Y.ID): Resolved | typeof UNRESOLVED => {
    if (id.clock < known(id.client)) return rootOfDocStruct(Y.getItem(doc.store, id));
    const struct = inUpdate(id);
    return struct ? resolve(struct) : UNRESOLVED;
  };

  const resolve = (struct: Struct): Resolved | typeof UNRESOLVED => {
    const done = resolved.get(struct);
    if (done !== undefined) return done;
    if (visiting.has(struct)) return UNRESOLVED;
    visiting.add(struct);
    let result: Resolved | typeof UNRESOLVED;
    if (!(struct instanceof Y.Item)) {
      result = { root: null, nested: false };
    } else if (typeof struct.parent === 'string') {
      result = { root: struct.parent, nested: false };
    } else if (struct.parent instanceof Y.ID) {
      const holder = resolveId(struct.parent);
      result = holder === UNRESOLVED || holder.root === null ? holder : { root: holder.root, nested: true };
    } else {
      const neighbour = struct.origin ?? struct.rightOrigin;
      // Next to garbage-collected content Yjs garbage-collects the item too: no effect.
      result = neighbour ? resolveId(neighbour) : UNRESOLVED;
    }
    visiting.delete(struct);
    resolved.set(struct, result);
    return result;
  };

  const effect: UpdateEffect = { roots: new Set(), unresolved: false, fresh: [], deletes: [] };
  for (const [client, list] of byClient) {
    const state = known(client);
    for (const struct of list) {
      if (struct instanceof Y.Skip || struct.id.clock + struct.length <= state) continue;
      const r = resolve(struct);
      if (r === UNRESOLVED) {
        effect.unresolved = true;
        effect.fresh.push({ struct, root: null, nested: false });
        continue;
      }
      if (r.root !== null) effect.roots.add(r.root);
      effect.fresh.push({ struct, ...r });
    }
  }

  for (const [client, ranges] of ds.clients) {
    const structsOfClient = doc.store.clients.get(client) ?? [];
    const state = known(client);
    for (const { clock, len } of ranges) {
      // The part beyond the document's state deletes structs of this same update: already counted.
      const end = Math.min(clock + len, state);
      if (clock >= end) {
        if (!byClient.has(client) || !inUpdate(Y.createID(client, clock))) effect.unresolved = true;
        continue;
      }
      let visibleFrom: number | undefined;
      for (let i = Y.findIndexSS(structsOfClient, clock); i < structsOfClient.length && structsOfClient[i].id.clock < end; i++) {
        const struct = structsOfClient[i];
        if (struct instanceof Y.Item && !struct.deleted) {
          const root = rootOfDocStruct(struct).root;
          if (root !== null) effect.roots.add(root);
          visibleFrom ??= Math.max(clock, struct.id.clock);
        }
      }
      if (visibleFrom !== undefined) effect.deletes.push({ client, clock: visibleFrom, length: end - visibleFrom });
    }
  }
  return effect;
}

/** Why `role` may not make this change, naming each section it may not touch; undefined if it may. */
export function refusalOf(role: Role, effect: UpdateEffect): string | undefined {
  if (effect.unresolved) return 'the change refers to content this document does not have';
  const reasons = [...effect.roots].sort().flatMap((root) => sectionRefusal(role, root) ?? []);
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
