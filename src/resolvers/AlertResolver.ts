import {
  Arg,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Clinician, Measure, Patient, ScoreAlert, TreatmentSession } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { LiveFeed } from '../graphql/liveFeeds';
import { Connection } from '../schema/connection';
import type { ConnectionShape } from '../records/paging';
import { reach, type AlertRow, type MeasureRow } from '../records/rows';

const ScoreAlertConnection = Connection('ScoreAlert', ScoreAlert);

@Resolver(() => ScoreAlert)
export class AlertResolver {
  @Query(() => ScoreAlertConnection, {
    description: "Alerts of the caller's patients (or one patient), newest first.",
  })
  alerts(
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID, { nullable: true }) patientId: string | null,
    @Arg('unacknowledgedOnly', () => Boolean, { nullable: true, defaultValue: true })
    unacknowledgedOnly: boolean | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConnectionShape<ScoreAlert>> {
    return ctx.records.alerts.list({
      patientId,
      unacknowledgedOnly: unacknowledgedOnly ?? true,
      first: first ?? 50,
      after,
    });
  }

  @Mutation(() => ScoreAlert)
  acknowledgeAlert(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ScoreAlert> {
    return ctx.records.alerts.acknowledge(id);
  }

  @Subscription(() => ScoreAlert, {
    description: "Alerts as they are stored: one patient's, or every patient's on the caller's care teams.",
    subscribe: async ({ args, context }) =>
      new LiveFeed(
        await (context as GraphQLContext).records.alerts.subscribe(args.patientId as string | null),
      ),
  })
  scoreAlert(
    @Root() alert: AlertRow,
    @Arg('patientId', () => ID, { nullable: true }) _patientId: string | null,
  ): AlertRow {
    return alert;
  }

  @FieldResolver(() => Patient)
  patient(@Ctx() ctx: GraphQLContext, @Root() alert: AlertRow): Promise<Patient> {
    return ctx.records.patients.ofRecord(alert);
  }

  @FieldResolver(() => Measure, {
    nullable: true,
    description: 'The measure that raised the alert; null for a VITAL_SIGNS alert, which has a session.',
  })
  measure(@Ctx() ctx: GraphQLContext, @Root() alert: AlertRow): Promise<Measure | MeasureRow | null> {
    return ctx.records.measures.ofAlert(alert);
  }

  @FieldResolver(() => TreatmentSession, {
    nullable: true,
    description: 'For VITAL_SIGNS: the dosing session whose vital signs raised it.',
  })
  session(@Ctx() ctx: GraphQLContext, @Root() alert: AlertRow): Promise<TreatmentSession | null> {
    return ctx.records.sessions.ofAlert(alert);
  }

  @FieldResolver(() => Clinician, { nullable: true })
  acknowledgedBy(@Ctx() ctx: GraphQLContext, @Root() alert: AlertRow): Promise<Clinician | null> {
    return alert.acknowledgedBy
      ? reach(ctx.records.scope, Clinician, alert.acknowledgedBy)
      : Promise.resolve(null);
  }
}
