import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Protocol, Route } from '../domain/plans';
import { Patient, TreatmentPlan } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { LiveFeed } from '../graphql/liveFeeds';
import { CollabTicket } from '../schema/CollabTicket';
import { PlanSection } from '../schema/PlanSection';

@InputType()
class CreateTreatmentPlanInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => Protocol)
  protocol!: Protocol;

  @Field(() => Route)
  route!: Route;

  @Field(() => Int)
  plannedDosingSessions!: number;
}

@Resolver(() => TreatmentPlan)
export class PlanResolver {
  @Query(() => TreatmentPlan, {
    nullable: true,
    description: "FORBIDDEN when not on its patient's care team.",
  })
  treatmentPlan(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<TreatmentPlan | null> {
    return ctx.records.plans.get(id);
  }

  @Mutation(() => TreatmentPlan, { description: 'A DRAFT plan for a patient on the caller’s care team.' })
  createTreatmentPlan(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => CreateTreatmentPlanInput) input: CreateTreatmentPlanInput,
  ): Promise<TreatmentPlan> {
    return ctx.records.plans.create(input);
  }

  @Mutation(() => PlanSection, {
    description: 'Replaces a section’s text in the live document, under the same rules as live editing.',
  })
  updatePlanSection(
    @Ctx() ctx: GraphQLContext,
    @Arg('planId', () => ID) planId: string,
    @Arg('key') key: string,
    @Arg('text') text: string,
  ): Promise<PlanSection> {
    return ctx.records.plans.updateSection(planId, key, text);
  }

  @Mutation(() => CollabTicket, {
    description:
      'A single-use, 60-second ticket to open the plan’s live document as the caller (care-team members).',
  })
  collabTicket(@Ctx() ctx: GraphQLContext, @Arg('planId', () => ID) planId: string): Promise<CollabTicket> {
    return ctx.records.plans.issueTicket(planId, new Date(ctx.identity.expiresAt * 1000));
  }

  @Subscription(() => PlanSection, {
    description: 'Each section of the plan as it changes, live or through updatePlanSection.',
    subscribe: async ({ args, context }) =>
      new LiveFeed(await (context as GraphQLContext).records.plans.subscribe(args.planId as string)),
  })
  planSectionChanged(@Root() section: PlanSection, @Arg('planId', () => ID) _planId: string): PlanSection {
    return section;
  }

  @FieldResolver(() => Patient)
  patient(@Ctx() ctx: GraphQLContext, @Root() plan: TreatmentPlan): Promise<Patient> {
    return ctx.records.patients.ofRecord(plan);
  }

  @FieldResolver(() => [PlanSection])
  sections(@Ctx() ctx: GraphQLContext, @Root() plan: TreatmentPlan): Promise<PlanSection[]> {
    return ctx.records.plans.sections(plan);
  }
}

@Resolver(() => PlanSection)
export class PlanSectionResolver {
  @FieldResolver(() => Boolean, { description: 'Whether the caller’s role may change this section.' })
  canEdit(@Ctx() ctx: GraphQLContext, @Root() section: PlanSection): boolean {
    return ctx.records.plans.canEdit(section);
  }
}
