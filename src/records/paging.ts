import { badInput } from '../errors';

/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** The audit log's largest page: an auditor reads it in bulk, and its rows are small. */
export const MAX_AUDIT_PAGE_SIZE = 500;

/** Page sizes a client may ask for. */
function pageSize(size: number, max = MAX_PAGE_SIZE, argument = 'first'): number {
  if (!Number.isInteger(size) || size < 1 || size > max)
    throw badInput(`${argument} must be from 1 to ${max}`);
  return size;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

/** Relay's page info, as GraphQL's `PageInfo` shows it (src/schema/connection.ts). */
export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** One page of a list, as a Relay connection type shows it (`Connection` in src/schema/connection.ts). */
export interface ConnectionShape<T> {
  edges: Edge<T>[];
  pageInfo: PageInfoShape;
  /** Counted only when asked for: the count starts when GraphQL awaits the field. */
  totalCount: PromiseLike<number>;
}

/**
 * Cursors are opaque to clients: the sort key of a row, base64url-encoded, so that pages stay
 * stable while rows are added.
 */
function encodeCursor(key: string): string {
  return Buffer.from(`c1:${key}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | null | undefined, argument = 'after'): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('c1:') || decoded.length > 200) throw badInput(`${argument} is not a valid cursor`);
  return decoded.slice(3);
}

/** The paging arguments of a connection field, as the client gave them. */
export interface PageArguments {
  first: number | null;
  after: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * Which rows a page holds, with the cursors decoded: `size` rows after `after` and before `before` in
 * the list's order, from the start of that range (`first`) or from its end (`last`).
 */
export interface PageRequest {
  size: number;
  fromEnd: boolean;
  after?: string;
  before?: string;
}

/**
 * Relay's paging: `first`/`after` forwards, `last`/`before` backwards, both cursors bounding one
 * range. `first` and `last` together are refused (Relay's spec discourages them; no client needs
 * both). `firstGiven` tells an explicit `first` from the field's default, which `last` overrides.
 */
export function pageRequest(
  args: PageArguments,
  options: { defaultFirst: number; firstGiven: boolean; max?: number },
): PageRequest {
  const last = args.last ?? null;
  if (last !== null && options.firstGiven && args.first !== null)
    throw badInput(
      'first and last cannot be given together: page forwards with first/after or backwards with last/before',
    );
  const range = { after: decodeCursor(args.after, 'after'), before: decodeCursor(args.before, 'before') };
  if (last !== null) return { size: pageSize(last, options.max, 'last'), fromEnd: true, ...range };
  return { size: pageSize(args.first ?? options.defaultFirst, options.max), fromEnd: false, ...range };
}

/**
 * Builds a connection from up to `size + 1` rows read from the page's end of the range: in the list's
 * order for `first`, in reverse order for `last` (so the extra row tells whether there is more in that
 * direction). The other direction has more exactly when its cursor was given: the cursor's row stands
 * there (or stood: a row is not deleted from any list that pages). `count` counts every row the
 * field's other arguments select, for `totalCount`.
 */
export function toConnection<T>(
  rows: T[],
  page: PageRequest,
  key: (row: T) => string,
  count: () => Promise<number>,
): ConnectionShape<T> {
  const inPage = rows.slice(0, page.size);
  if (page.fromEnd) inPage.reverse();
  const edges = inPage.map((node) => ({ cursor: encodeCursor(key(node)), node }));
  const more = rows.length > page.size;
  return {
    edges,
    pageInfo: {
      hasNextPage: page.fromEnd ? page.before !== undefined : more,
      hasPreviousPage: page.fromEnd ? more : page.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: lazily(count),
  };
}

/** A promise-like whose work starts only when something awaits it. */
function lazily<T>(start: () => Promise<T>): PromiseLike<T> {
  let started: Promise<T> | undefined;
  return {
    then: (onFulfilled, onRejected) => (started ??= start()).then(onFulfilled, onRejected),
  };
}
