import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { MAX_NODES } from '../records/nodes';
import { Node } from '../entities/Node';

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description:
      'Any object by its id, under the same access and audit as its other fields; null for an unknown id.',
  })
  node(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Node | null> {
    return ctx.records.nodes.get(id);
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `Objects by their ids (at most ${MAX_NODES}), in order; each one refused or unknown is null with its own error.`,
  })
  nodes(@Ctx() ctx: GraphQLContext, @Arg('ids', () => [ID]) ids: string[]): Promise<Node | null>[] {
    return ctx.records.nodes.many(ids);
  }
}
