import { MAX_PAGE_SIZE } from '../records/paging';

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
