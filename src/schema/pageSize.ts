import { badInput } from '../errors';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** The audit log's largest page: an auditor reads it in bulk, and its rows are small. */
export const MAX_AUDIT_PAGE_SIZE = 500;

/**
 * The field extension that names a connection's largest page where it is not MAX_PAGE_SIZE
 * (`@Extensions(largestPage(…))` on the field), so the operation cost counts a page size given as a
 * variable as what the field would really serve.
 */
export const largestPage = (size: number) => ({ maxPageSize: size });

/** A connection field's largest page, from its extensions. */
export function largestPageOf(field: { extensions?: Readonly<Record<string, unknown>> | null }): number {
  const size = field.extensions?.maxPageSize;
  return typeof size === 'number' ? size : MAX_PAGE_SIZE;
}

/** Page sizes a client may ask for. */
export function pageSize(size: number, max = MAX_PAGE_SIZE, argument = 'first'): number {
  if (!Number.isInteger(size) || size < 1 || size > max)
    throw badInput(`${argument} must be from 1 to ${max}`);
  return size;
}
