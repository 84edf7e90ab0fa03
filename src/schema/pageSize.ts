import { badInput } from '../errors';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** Page sizes a client may ask for. */
export function pageSize(first: number, max = MAX_PAGE_SIZE): number {
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(`first must be from 1 to ${max}`);
  return first;
}
