import { Kind, type GraphQLResolveInfo } from 'graphql';
import type { ClassType } from 'type-graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import { badInput } from '../errors';
import { pageSize } from './pageSize';

@ObjectType({ description: 'Relay cursor-connection paging.' })
export class PageInfo {
  @Field({
    description:
      'Paging forward (first/after): whether rows follow this page. Paging backward (last/before): whether `before` was given.',
  })
  hasNextPage!: boolean;

  @Field({
    description:
      'Paging backward (last/before): whether rows precede this page. Paging forward (first/after): whether `after` was given.',
  })
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

    @Field(() => Int, {
      description:
        'Every row the arguments other than first/after select: one COUNT, run only when asked for.',
    })
    totalCount!: PromiseLike<number>;
  }
  return ConnectionType as ClassType<ConnectionShape<T>>;
}

// Without decorators, so that the operation limits can read it too.
export { pageSize } from './pageSize';

/**
 * Cursors are opaque to clients: the sort key of a row, base64url-encoded, so that pages stay
 * stable while rows are added.
 */
function encodeCursor(key: string): string {
  return Buffer.from(`c1:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, argument = 'after'): string | undefined {
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
 * Whether the operation gave this argument of the field being resolved a value: written with a
 * non-null literal or a variable whose value is not null. A default value does not count.
 */
export function argumentGiven(info: GraphQLResolveInfo, name: string): boolean {
  const value = info.fieldNodes[0]?.arguments?.find((a) => a.name.value === name)?.value;
  if (!value || value.kind === Kind.NULL) return false;
  if (value.kind === Kind.VARIABLE)
    return (
      info.variableValues[value.name.value] !== null && info.variableValues[value.name.value] !== undefined
    );
  return true;
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
