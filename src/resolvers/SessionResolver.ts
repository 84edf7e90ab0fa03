import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AdverseEvent, SessionKind } from '../domain/pathway';
import { Prescription, PsychotherapyNote, TreatmentPlan, TreatmentSession } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { DateTimeScalar } from '../schema/scalars';

@InputType()
class ScheduleSessionInput {
  @Field(() => ID)
  planId!: string;

  @Field(() => SessionKind)
  kind!: SessionKind;

  @Field(() => DateTimeScalar)
  scheduledAt!: Date;

  @Field(() => ID, { nullable: true, description: 'For an integration session: the dosing session it integrates.' })
  dosingSessionId?: string;
}

@InputType()
class BloodPressureReadingInput {
  @Field(() => Int)
  systolic!: number;

  @Field(() => Int)
  diastolic!: number;
}

@InputType()
class CompleteDosingSessionInput {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => ID)
  prescriptionId!: string;

  @Field(() => Float)
  doseMg!: number;

  @Field()
  lotNumber!: string;

  @Field(() => BloodPressureReadingInput)
  bloodPressureBefore!: BloodPressureReadingInput;

  @Field(() => BloodPressureReadingInput, { nullable: true, description: 'About 40 minutes after dosing.' })
  bloodPressureAfter?: BloodPressureReadingInput;

  @Field(() => Int)
  minutesMonitored!: number;

  @Field(() => [AdverseEvent], { defaultValue: [] })
  adverseEvents!: AdverseEvent[];

  @Field({ nullable: true, description: 'The prescriber’s reason to dose with a pre-dose blood pressure above 180/100.' })
  bloodPressureOverrideReason?: string;
}

@Resolver(() => TreatmentSession)
export class SessionResolver {
  @Mutation(() => TreatmentSession, { description: 'A dosing session needs an ELIGIBLE assessment and a consent.' })
  scheduleSession(@Ctx() ctx: GraphQLContext, @Arg('input', () => ScheduleSessionInput) input: ScheduleSessionInput): Promise<TreatmentSession> {
    return ctx.records.sessions.schedule(input);
  }

  @Mutation(() => TreatmentSession, { description: 'PRESCRIBER only: records the dose given, within the active prescription.' })
  completeDosingSession(@Ctx() ctx: GraphQLContext, @Arg('input', () => CompleteDosingSessionInput) input: CompleteDosingSessionInput): Promise<TreatmentSession> {
    return ctx.records.sessions.completeDosing({ ...input, before: input.bloodPressureBefore, after: input.bloodPressureAfter });
  }

  @Mutation(() => TreatmentSession, { description: 'Preparation and integration by the therapist; follow-up by either.' })
  completeSession(@Ctx() ctx: GraphQLContext, @Arg('sessionId', () => ID) sessionId: string): Promise<TreatmentSession> {
    return ctx.records.sessions.complete(sessionId);
  }

  @Mutation(() => PsychotherapyNote, { description: 'THERAPIST only: the caller’s own notes on a session, readable by them alone.' })
  writePsychotherapyNote(@Ctx() ctx: GraphQLContext, @Arg('sessionId', () => ID) sessionId: string, @Arg('text') text: string): Promise<PsychotherapyNote> {
    return ctx.records.notes.write(sessionId, text);
  }

  @Query(() => PsychotherapyNote, { nullable: true, description: 'The caller’s own note on the session; nobody else’s, ever.' })
  psychotherapyNote(@Ctx() ctx: GraphQLContext, @Arg('sessionId', () => ID) sessionId: string): Promise<PsychotherapyNote | null> {
    return ctx.records.notes.mine(sessionId);
  }

  @FieldResolver(() => TreatmentPlan)
  plan(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<TreatmentPlan> {
    return ctx.records.plans.ofSession(session);
  }

  @FieldResolver(() => TreatmentSession, { nullable: true })
  dosingSession(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<TreatmentSession | null> {
    return ctx.records.sessions.dosingSessionOf(session);
  }

  @FieldResolver(() => Prescription, { nullable: true, description: 'For a completed dosing session: the prescription dosed under.' })
  prescription(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<Prescription | null> {
    return ctx.records.pathway.referredPrescription(session.prescription);
  }

  @FieldResolver(() => Boolean, { description: 'Under SEPARATE_DAY: this integration session is not one to two days after its dosing session.' })
  integrationOutsideWindow(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<boolean> {
    return ctx.records.sessions.outsideWindow(session);
  }
}
