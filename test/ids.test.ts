import { describe, expect, it } from 'vitest';
import { isId, newId } from '../src/ids';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newId', () => {
  it('makes distinct version-7 ids in creation order, within one millisecond and across the random pool', () => {
    const at = Date.now() + 60_000;
    // More than one pool of random bytes (256 ids), all in the same millisecond, then the next ones.
    const ids = [
      ...Array.from({ length: 600 }, () => newId(at)),
      ...Array.from({ length: 600 }, (_, i) => newId(at + 1 + Math.floor(i / 100))),
    ];
    for (const id of ids) {
      expect(id).toMatch(V7);
      expect(isId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The random tails differ from one pool to the next: no slot of random bytes is reused.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
  });
});
