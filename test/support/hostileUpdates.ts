import fc from 'fast-check';
import * as Y from 'yjs';
import { craftUpdate, type CraftedStruct } from './yjsCraft';

/**
 * Hostile Yjs updates built from a live document's real structs, for property tests: other clients'
 * ids, overlapping and gapped clocks, wrong or missing parents, origins into other sections, GC and
 * skip structs, deletions inside and past the known state, formatting and embeds, several of these in
 * one update. A recipe is drawn as plain numbers and resolved against the document at the moment it
 * is sent, so it always refers to what is really there.
 */
export interface HostileRecipe {
  structs: StructRecipe[];
  deletes: { client: number; clock: number; len: number }[];
}

interface StructRecipe {
  kind: 'item' | 'gc' | 'skip';
  client: number;
  clock: number;
  length: number;
  content: number;
  origin: number | null;
  rightOrigin: number | null;
  parent: number;
  parentSub: boolean;
}

const pick = fc.nat({ max: 1_000_000 });
const structRecipe: fc.Arbitrary<StructRecipe> = fc.record({
  kind: fc.constantFrom<StructRecipe['kind']>('item', 'item', 'item', 'gc', 'skip'),
  client: pick,
  clock: fc.integer({ min: -3, max: 3 }),
  length: fc.integer({ min: 1, max: 6 }),
  content: fc.nat({ max: 7 }),
  origin: fc.option(pick, { freq: 2 }),
  rightOrigin: fc.option(pick, { freq: 2 }),
  parent: pick,
  parentSub: fc.boolean(),
});

export const hostileRecipe: fc.Arbitrary<HostileRecipe> = fc.record({
  structs: fc.array(structRecipe, { minLength: 0, maxLength: 4 }),
  deletes: fc.array(
    fc.record({
      client: pick,
      clock: fc.integer({ min: -6, max: 3 }),
      len: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(100_000)),
    }),
    { maxLength: 2 },
  ),
});

/**
 * What an attacker's update carries so a test can look for it wherever it must not be. A test that
 * needs to tell one update's content from another's passes its own marker, this followed by a number
 * and `~`: then no marker is a prefix of another.
 */
export const MARKER = 'HOSTILE';

/**
 * Resolves a recipe against `doc` (the attacker's view, a replica in sync with the server) as an
 * update from `own` (the attacker's client id): a mix of its own, others' and brand-new client ids.
 */
export function hostileUpdate(
  doc: Y.Doc,
  own: number,
  recipe: HostileRecipe,
  marker = MARKER,
): Uint8Array | undefined {
  const clients = [own, ...doc.store.clients.keys(), 0x7fff_0000 + (recipe.structs.length % 7)];
  const ids: Y.ID[] = [];
  for (const [client, structs] of doc.store.clients) {
    for (const struct of structs)
      for (const offset of new Set([0, struct.length - 1]))
        ids.push(Y.createID(client, struct.id.clock + offset));
  }
  const anyId = (n: number): Y.ID => {
    // Mostly real ids; now and then one just past a client's state (missing).
    if (ids.length === 0 || n % 9 === 0) {
      const client = clients[n % clients.length];
      return Y.createID(client, Y.getState(doc.store, client) + (n % 3));
    }
    return ids[n % ids.length];
  };
  const roots = ['medication', 'notes', 'monitoring', 'integration', 'safetyPlan', 'sideChannel'];
  const structs: CraftedStruct[] = [];
  const nextClock = new Map<number, number>();
  for (const r of recipe.structs) {
    const client = clients[r.client % clients.length];
    // Overlapping (negative offsets), exact or gapped clocks relative to what the document has;
    // further structs of the same client follow on, as the encoding implies.
    const clock = nextClock.get(client) ?? Math.max(0, Y.getState(doc.store, client) + r.clock);
    const id = Y.createID(client, clock);
    const carried = r.kind === 'item' ? content(r.content, r.length, marker) : undefined;
    nextClock.set(client, clock + (carried?.getLength() ?? r.length));
    if (r.kind === 'gc') {
      structs.push(new Y.GC(id, r.length));
      continue;
    }
    if (r.kind === 'skip') {
      structs.push(new Y.Skip(id, r.length));
      continue;
    }
    const origin = r.origin === null ? null : anyId(r.origin);
    const rightOrigin = r.rightOrigin === null ? null : anyId(r.rightOrigin);
    const parent = r.parent % 4 === 0 ? anyId(r.parent) : roots[r.parent % roots.length];
    structs.push(
      new Y.Item(id, null, origin, null, rightOrigin, parent as never, r.parentSub ? 'k' : null, carried!),
    );
  }
  const deletes = recipe.deletes.map(({ client, clock, len }) => {
    const c = clients[client % clients.length];
    return { client: c, clock: Math.max(0, Y.getState(doc.store, c) + clock), len };
  });
  // Structs of one client must be contiguous in an update (the encoding states one first clock).
  structs.sort((a, b) => a.id.client - b.id.client || a.id.clock - b.id.clock);
  try {
    return craftUpdate(structs, deletes);
  } catch {
    return undefined; // not encodable (e.g. an item without origins whose parent is an id Yjs cannot write)
  }
}

function content(kind: number, length: number, marker: string): Y.Item['content'] {
  const text = `${marker}${'x'.repeat(length)}`;
  switch (kind) {
    case 0:
    case 1:
      return new Y.ContentString(text);
    case 2:
      return new Y.ContentFormat('bold', (length % 2 === 0 ? true : null) as never);
    case 3:
      return new Y.ContentEmbed({ marker });
    case 4:
      return new Y.ContentType(new Y.XmlText());
    case 5:
      return new Y.ContentDeleted(length);
    case 6:
      return new Y.ContentAny(Array.from({ length }, () => marker));
    default:
      return new Y.ContentBinary(new TextEncoder().encode(marker));
  }
}
