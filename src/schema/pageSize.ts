import { badInput } from '../errors';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** Page sizes a client may ask for. */
export function pageSize(size: number, max = MAX_PAGE_SIZE, argument = 'first'): number {
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput(`${argument} must be from 1 to ${max}`);
  return size;
}
