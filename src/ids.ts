import { randomFillSync } from 'node:crypto';
import { badInput } from './errors';

/**
 * UUIDv7 (RFC 9562): time-ordered, so primary keys double as a stable creation order for cursor
 * pagination and index inserts stay append-mostly.
 */
let lastMs = 0;
let sequence = 0;

/**
 * Random bytes drawn from the CSPRNG 256 ids at a time: one draw per id was a system call per row
 * written (as Node's own `randomUUID` does, from a cache).
 */
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let used = POOL_IDS;

export function newId(now = Date.now()): string {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  // Each slot is used once before the pool is drawn again, so it is written in place.
  const bytes = pool.subarray(16 * used, 16 * ++used);
  // Ids made in the same millisecond still sort in creation order: a 12-bit counter follows the
  // timestamp (RFC 9562 §6.2, method 1).
  if (now <= lastMs && sequence < 0xfff) {
    sequence += 1;
    now = lastMs;
  } else {
    lastMs = Math.max(now, lastMs + (now <= lastMs ? 1 : 0));
    now = lastMs;
    sequence = 0;
  }
  bytes.writeUIntBE(now, 0, 6);
  bytes.writeUInt16BE(sequence, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is an id (any UUID) at all. */
export const isId = (value: string): boolean => UUID.test(value);

/** An id from a client: checked here so that a malformed one is BAD_USER_INPUT, never a SQL error. */
export function parseId(value: string, what: string): string {
  if (!UUID.test(value)) throw badInput(`${what} is not a valid id`);
  return value.toLowerCase();
}
