import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** A struct to hand-encode: an item, a garbage-collected range or a skipped range. */
export type CraftedStruct = Y.Item | Y.GC | Y.Skip;

/**
 * Encodes structs and deletions as a Yjs update, byte for byte as written, whatever they claim:
 * what an attacker sends instead of what a Y.Doc would produce.
 */
export function craftUpdate(
  structs: CraftedStruct[],
  deletes: { client: number; clock: number; len: number }[] = [],
): Uint8Array {
  const byClient = new Map<number, CraftedStruct[]>();
  for (const struct of structs)
    byClient.set(struct.id.client, [...(byClient.get(struct.id.client) ?? []), struct]);
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, list] of byClient) {
    encoding.writeVarUint(encoder.restEncoder, list.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, list[0].id.clock);
    for (const struct of list) struct.write(encoder, 0);
  }
  const ds = new Map<number, { clock: number; len: number }[]>();
  for (const { client, clock, len } of deletes) ds.set(client, [...(ds.get(client) ?? []), { clock, len }]);
  encoding.writeVarUint(encoder.restEncoder, ds.size);
  for (const [client, ranges] of ds) {
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, ranges.length);
    for (const { clock, len } of ranges) {
      encoding.writeVarUint(encoder.restEncoder, clock);
      encoding.writeVarUint(encoder.restEncoder, len);
    }
  }
  return encoder.toUint8Array();
}

/** A text item: `parent` is a root key (only written when both origins are null) or a nested type's item id. */
export function textItem(
  id: Y.ID,
  text: string,
  place: {
    origin?: Y.ID | null;
    rightOrigin?: Y.ID | null;
    parent?: string | Y.ID | null;
    parentSub?: string | null;
  } = {},
): Y.Item {
  return new Y.Item(
    id,
    null,
    place.origin ?? null,
    null,
    place.rightOrigin ?? null,
    (place.parent ?? null) as never,
    place.parentSub ?? null,
    new Y.ContentString(text),
  );
}

/** The last clock a client has in a document. */
export const lastClock = (doc: Y.Doc, client: number) => Y.getState(doc.store, client) - 1;
