import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import type { ClassType } from 'type-graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import type { ConnectionShape, Edge, PageInfoShape } from '../records/paging';

@ObjectType({ description: 'Relay cursor-connection paging.', simpleResolvers: true })
export class PageInfo implements PageInfoShape {
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

/** A Relay connection type named `<Name>Connection` with `<Name>Edge` edges. */
export function Connection<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
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

/**
 * Whether the operation gave this argument of the field being resolved a value: written with a
 * non-null literal or a variable whose value is not null. A default value does not count.
 */
export function argumentGiven(info: GraphQLResolveInfo, name: string): boolean {
  const node = info.fieldNodes[0];
  return node !== undefined && argumentGivenTo(node, info.variableValues, name);
}

/** `argumentGiven` for any field of the operation. */
export function argumentGivenTo(
  node: FieldNode,
  variables: GraphQLResolveInfo['variableValues'],
  name: string,
): boolean {
  const value = node.arguments?.find((a) => a.name.value === name)?.value;
  if (!value || value.kind === Kind.NULL) return false;
  if (value.kind === Kind.VARIABLE)
    return variables[value.name.value] !== null && variables[value.name.value] !== undefined;
  return true;
}

/**
 * The fields the operation selects at `path` below the field being resolved (`['edges', 'node']`
 * for a connection's nodes, `[]` for the field's own), through fragments too. `@skip`/`@include`
 * are not evaluated, so a field may be one the answer leaves out.
 */
export function fieldsSelected(info: GraphQLResolveInfo, path: readonly string[]): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (selections: readonly SelectionNode[] | undefined, path: readonly string[]) => {
    for (const selection of selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (path.length === 0) fields.push(selection);
        else if (selection.name.value === path[0]) visit(selection.selectionSet?.selections, path.slice(1));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet.selections, path);
      } else {
        visit(info.fragments[selection.name.value]?.selectionSet.selections, path);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet?.selections, path);
  return fields;
}
