import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  InputType,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { AdverseEvent, SessionKind } from '../domain/pathway';
import { Clinician, Prescription, PsychotherapyNote, TreatmentPlan, TreatmentSession } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { DateTimeScalar } from '../entities/scalars';

@InputType()
class ScheduleSessionInput {
  @Field(() => ID)
  planId!: string;

  @Field(() => SessionKind)
  kind!: SessionKind;

  @Field(() => DateTimeScalar)
  scheduledAt!: Date;

  @Field(() => ID, {
    nullable: true,
    description: 'For an integration session: the dosing session it integrates.',
  })
  dosingSessionId?: string;
}

@InputType({
  description: 'One reading: blood pressure always; heart rate and oxygen saturation where measured.',
})
class VitalSignsInput {
  @Field(() => Int)
  systolic!: number;

  @Field(() => Int)
  diastolic!: number;

  @Field(() => Int, { nullable: true, description: 'Beats per minute.' })
  heartRate?: number;

  @Field(() => Int, { nullable: true, description: 'Percent.' })
  oxygenSaturation?: number;
}

@InputType()
class CompleteDosingSessionInput {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => ID)
  prescriptionId!: string;

  @Field(() => Float, { description: 'Esketamine: 28, 56 or 84 mg. At most the prescribed dose.' })
  doseMg!: number;

  @Field()
  lotNumber!: string;

  @Field(() => DateTimeScalar, {
    description: 'When the dose was given: not in the future, not before the session was scheduled.',
  })
  administeredAt!: Date;

  @Field(() => VitalSignsInput)
  vitalSignsBefore!: VitalSignsInput;

  @Field(() => VitalSignsInput, { description: 'About 40 minutes after the dose.' })
  vitalSignsAfter!: VitalSignsInput;

  @Field(() => VitalSignsInput)
  vitalSignsAtDischarge!: VitalSignsInput;

  @Field(() => DateTimeScalar, {
    description: 'When the patient left; minutesMonitored is counted from administeredAt to here.',
  })
  dischargedAt!: Date;

  @Field({ description: 'The prescriber attests that the patient was fit to leave; must be true.' })
  fitToLeave!: boolean;

  @Field(() => [AdverseEvent], { defaultValue: [] })
  adverseEvents!: AdverseEvent[];

  @Field({
    nullable: true,
    description: 'The prescriber’s reason to dose with a pre-dose blood pressure above 180/100.',
  })
  bloodPressureOverrideReason?: string;

  @Field({
    nullable: true,
    description:
      'The prescriber’s reason to dose within 24 hours of another dose, or a third esketamine dose within seven days.',
  })
  doseSpacingOverrideReason?: string;
}

@Resolver(() => TreatmentSession)
export class SessionResolver {
  @Mutation(() => TreatmentSession, {
    description: 'A dosing session needs an ELIGIBLE assessment and a consent.',
  })
  scheduleSession(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => ScheduleSessionInput) input: ScheduleSessionInput,
  ): Promise<TreatmentSession> {
    return ctx.records.sessions.schedule(input);
  }

  @Mutation(() => TreatmentSession, {
    description:
      'PRESCRIBER only: the Schedule III record of the dose given, checked against the prescription, the current course and the patient’s other doses.',
  })
  completeDosingSession(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => CompleteDosingSessionInput) input: CompleteDosingSessionInput,
  ): Promise<TreatmentSession> {
    return ctx.records.sessions.completeDosing({
      ...input,
      before: input.vitalSignsBefore,
      after: input.vitalSignsAfter,
      atDischarge: input.vitalSignsAtDischarge,
    });
  }

  @Mutation(() => TreatmentSession, {
    description: 'Preparation and integration by the therapist; follow-up by either.',
  })
  completeSession(
    @Ctx() ctx: GraphQLContext,
    @Arg('sessionId', () => ID) sessionId: string,
  ): Promise<TreatmentSession> {
    return ctx.records.sessions.complete(sessionId);
  }

  @Mutation(() => PsychotherapyNote, {
    description: 'THERAPIST only: the caller’s own notes on a session, readable by them alone.',
  })
  writePsychotherapyNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('sessionId', () => ID) sessionId: string,
    @Arg('text') text: string,
  ): Promise<PsychotherapyNote> {
    return ctx.records.notes.write(sessionId, text);
  }

  @Query(() => PsychotherapyNote, {
    nullable: true,
    description: 'The caller’s own note on the session; nobody else’s, ever.',
  })
  psychotherapyNote(
    @Ctx() ctx: GraphQLContext,
    @Arg('sessionId', () => ID) sessionId: string,
  ): Promise<PsychotherapyNote | null> {
    return ctx.records.notes.mine(sessionId);
  }

  @FieldResolver(() => TreatmentPlan)
  plan(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<TreatmentPlan> {
    return ctx.records.plans.ofSession(session);
  }

  @FieldResolver(() => TreatmentSession, { nullable: true })
  dosingSession(
    @Ctx() ctx: GraphQLContext,
    @Root() session: TreatmentSession,
  ): Promise<TreatmentSession | null> {
    return ctx.records.sessions.dosingSessionOf(session);
  }

  @FieldResolver(() => Clinician, {
    nullable: true,
    description: 'For a completed dosing session: the prescriber who gave the dose.',
  })
  administeredBy(@Root() session: TreatmentSession): Promise<Clinician | null> {
    return session.administeredBy ? session.administeredBy.load() : Promise.resolve(null);
  }

  @FieldResolver(() => Prescription, {
    nullable: true,
    description: 'For a completed dosing session: the prescription dosed under.',
  })
  prescription(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<Prescription | null> {
    return ctx.records.pathway.referredPrescription(session.prescription);
  }

  @FieldResolver(() => Boolean, {
    description:
      'Under SEPARATE_DAY: this integration session is not one to two days after its dosing session.',
  })
  integrationOutsideWindow(@Ctx() ctx: GraphQLContext, @Root() session: TreatmentSession): Promise<boolean> {
    return ctx.records.sessions.outsideWindow(session);
  }
}
