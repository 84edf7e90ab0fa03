import type { ClassType } from 'type-graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import { badInput } from '../errors';

@ObjectType({ description: 'Relay cursor-connection paging.' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field({ description: 'Paging forward (first/after): whether `after` was given, i.e. rows come before this page.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** Counted only when asked for: the count starts when GraphQL awaits the field. */
  totalCount: PromiseLike<number>;
}

/** A Relay connection type named `<Name>Connection` with `<Name>Edge` edges. */
export function Connection<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: Edge<T>[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Every row the arguments other than first/after select: one COUNT, run only when asked for.' })
    totalCount!: PromiseLike<number>;
  }
  return ConnectionType as ClassType<ConnectionShape<T>>;
}

// Without decorators, so that the operation limits can read it too.
export { pageSize } from './pageSize';

/**
 * Cursors are opaque to clients: the sort key of the last row, base64url-encoded, so that pages stay
 * stable while rows are added.
 */
function encodeCursor(key: string): string {
  return Buffer.from(`c1:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('c1:') || decoded.length > 200) throw badInput('after is not a valid cursor');
  return decoded.slice(3);
}

/**
 * Builds a connection from `first + 1` rows fetched in order after the `after` cursor (if any);
 * `count` counts every row the same filter selects, for `totalCount`.
 */
export function toConnection<T>(rows: T[], first: number, key: (row: T) => string, page: { after: string | null | undefined; count: () => Promise<number> }): ConnectionShape<T> {
  const edges = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: page.after !== null && page.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: lazily(page.count),
  };
}

/** A promise-like whose work starts only when something awaits it. */
function lazily<T>(start: () => Promise<T>): PromiseLike<T> {
  let started: Promise<T> | undefined;
  return {
    then: (onFulfilled, onRejected) => (started ??= start()).then(onFulfilled, onRejected),
  };
}
