import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Instrument } from '../domain/instruments';
import { Clinician, Measure, Patient, ScoreAlert } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { LiveFeed } from '../graphql/liveFeeds';
import { reach, type AlertRow, type MeasureRow } from '../records/rows';
import { DateTimeScalar } from '../entities/scalars';

@InputType()
class RecordMeasureInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => Instrument)
  instrument!: Instrument;

  @Field(() => [Int], { description: 'Item responses in item order.' })
  responses!: number[];

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When the patient answered; now when omitted. Not in the future.',
  })
  administeredAt?: Date | null;
}

@Resolver(() => Measure)
export class MeasureResolver {
  @Mutation(() => Measure)
  recordMeasure(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => RecordMeasureInput) input: RecordMeasureInput,
  ): Promise<MeasureRow> {
    return ctx.records.measures.record(input);
  }

  @Subscription(() => Measure, {
    subscribe: async ({ args, context }) =>
      new LiveFeed(await (context as GraphQLContext).records.measures.subscribe(args.patientId as string)),
  })
  measureRecorded(@Root() measure: MeasureRow, @Arg('patientId', () => ID) _patientId: string): MeasureRow {
    return measure;
  }

  @FieldResolver(() => Patient)
  patient(@Ctx() ctx: GraphQLContext, @Root() measure: MeasureRow): Promise<Patient> {
    return ctx.records.patients.ofRecord(measure);
  }

  @FieldResolver(() => Clinician)
  recordedBy(@Ctx() ctx: GraphQLContext, @Root() measure: MeasureRow): Promise<Clinician> {
    return reach(ctx.records.scope, Clinician, measure.recordedBy) as Promise<Clinician>;
  }

  @FieldResolver(() => Int)
  changeFromBaseline(@Ctx() ctx: GraphQLContext, @Root() measure: MeasureRow): Promise<number> {
    return ctx.records.measures.changeFromBaseline(measure);
  }

  @FieldResolver(() => [ScoreAlert])
  alerts(@Ctx() ctx: GraphQLContext, @Root() measure: MeasureRow): Promise<readonly AlertRow[]> {
    return ctx.records.alerts.forMeasure(measure);
  }
}
