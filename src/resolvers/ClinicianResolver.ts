import { Ctx, Query, Resolver } from 'type-graphql';
import type { SignedInClinician } from '../auth/provision';
import { Clinician } from '../entities';
import type { GraphQLContext } from '../graphql/context';

@Resolver(() => Clinician)
export class ClinicianResolver {
  @Query(() => Clinician, { description: 'The signed-in clinician.' })
  me(@Ctx() ctx: GraphQLContext): SignedInClinician {
    return ctx.clinician;
  }
}
