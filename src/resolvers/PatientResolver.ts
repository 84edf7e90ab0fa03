import { getArgumentValues, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Info,
  InputType,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { PatientStatus } from '../domain/patientStatus';
import { Instrument } from '../domain/instruments';
import {
  CareTeamMember,
  Clinician,
  Consent,
  EligibilityAssessment,
  Measure,
  Patient,
  Prescription,
  ScoreAlert,
  TreatmentCourse,
  TreatmentPlan,
  TreatmentSession,
} from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { argumentGiven, argumentGivenTo, Connection, fieldsSelected } from '../schema/connection';
import type { Records } from '../records';
import type { ConnectionShape } from '../records/paging';
import type { PageIds } from '../records/together';
import type { AlertRow, CareTeamMemberRow, ClinicianRow, MeasureRow, PatientRow } from '../records/rows';
import { DateScalar } from '../entities/scalars';
import { TimelineEntry } from '../schema/TimelineEntry';

/** How the alerts of a patient are read from the field's arguments. */
const alertsOf = (args: { unacknowledgedOnly?: boolean | null }) => args.unacknowledgedOnly ?? true;

/** How a page of a patient's measures is read from the field's arguments. */
const measuresOf = (
  args: {
    instrument?: Instrument | null;
    first?: number | null;
    after?: string | null;
    last?: number | null;
    before?: string | null;
  },
  given: (argument: string) => boolean,
) =>
  [
    {
      instrument: args.instrument ?? null,
      first: args.first ?? null,
      after: args.after ?? null,
      last: args.last ?? null,
      before: args.before ?? null,
    },
    { defaultFirst: 50, firstGiven: given('first') },
  ] as const;

/** A field the operation selects on a patient: its arguments (defaults applied) and which it gave. */
interface Selected {
  args: Record<string, unknown>;
  given(argument: string): boolean;
}

/**
 * List fields of a patient read in the same statement as the patient (`patient`) or the page
 * (`patients`) when the operation selects them: one round trip for both instead of two. Any other
 * field is read after them, as before; a field read ahead that the answer skips costs a read, never
 * an audit row.
 */
const READ_AHEAD = new Map<string, (records: Records, patients: PageIds, field: Selected) => void>([
  ['careTeam', (records, patients) => records.patients.readCareTeamsAhead(patients)],
  ['latestMeasures', (records, patients) => records.measures.readLatestAhead(patients)],
  ['alerts', (records, patients, { args }) => records.alerts.readAhead(patients, alertsOf(args))],
  [
    'measures',
    (records, patients, { args, given }) =>
      records.measures.readListAhead(patients, ...measuresOf(args, given)),
  ],
]);

/** Starts the reads `READ_AHEAD` names for the patient fields selected at `path`. */
function readAhead(ctx: GraphQLContext, info: GraphQLResolveInfo, path: readonly string[]) {
  const fields = (info.schema.getType('Patient') as GraphQLObjectType).getFields();
  const selected = fieldsSelected(info, path).flatMap((node) => {
    const read = READ_AHEAD.get(node.name.value);
    return read ? [{ node, read }] : [];
  });
  return (patients: PageIds) => {
    for (const { node, read } of selected)
      read(ctx.records, patients, {
        args: getArgumentValues(fields[node.name.value], node, info.variableValues),
        given: (argument) => argumentGivenTo(node, info.variableValues, argument),
      });
  };
}

const PatientConnection = Connection('Patient', Patient);
const MeasureConnection = Connection('Measure', Measure);
const TimelineConnection = Connection('Timeline', TimelineEntry);

@InputType()
class CreatePatientInput {
  @Field()
  firstName!: string;

  @Field()
  lastName!: string;

  @Field(() => DateScalar)
  dateOfBirth!: string;
}

@Resolver(() => Patient)
export class PatientResolver {
  @Query(() => PatientConnection, { description: "Patients on the caller's care teams, oldest first." })
  patients(
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => PatientStatus, { nullable: true }) status: PatientStatus | null,
  ): Promise<ConnectionShape<PatientRow>> {
    return ctx.records.patients.list(
      { first: first ?? 20, after, status },
      readAhead(ctx, info, ['edges', 'node']),
    );
  }

  @Query(() => Patient, { nullable: true, description: 'FORBIDDEN when the caller is not on its care team.' })
  patient(
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('id', () => ID) id: string,
  ): Promise<Patient | null> {
    return ctx.records.patients.get(id, readAhead(ctx, info, []));
  }

  @Mutation(() => Patient)
  createPatient(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => CreatePatientInput) input: CreatePatientInput,
  ): Promise<Patient> {
    return ctx.records.patients.create(input);
  }

  @Mutation(() => Patient)
  addCareTeamMember(
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID) patientId: string,
    @Arg('email', () => String) email: string,
  ): Promise<Patient> {
    return ctx.records.patients.addCareTeamMember(patientId, email);
  }

  @Mutation(() => Patient)
  removeCareTeamMember(
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID) patientId: string,
    @Arg('clinicianId', () => ID) clinicianId: string,
  ): Promise<Patient> {
    return ctx.records.patients.removeCareTeamMember(patientId, clinicianId);
  }

  @FieldResolver(() => MeasureConnection, {
    description: 'Newest first: `first`/`after` page back in time, `last`/`before` towards the newest.',
  })
  measures(
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Root() patient: PatientRow,
    @Arg('instrument', () => Instrument, { nullable: true }) instrument: Instrument | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, {
      nullable: true,
      description:
        'The last measures of the list (the oldest), or with `before` those just before that cursor (newer than it); not with `first`.',
    })
    last: number | null,
    @Arg('before', () => String, { nullable: true }) before: string | null,
  ): Promise<ConnectionShape<MeasureRow>> {
    return ctx.records.measures.list(
      patient,
      ...measuresOf({ instrument, first, after, last, before }, (argument) => argumentGiven(info, argument)),
    );
  }

  @FieldResolver(() => [Measure], { description: 'The newest measure of each instrument.' })
  latestMeasures(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<MeasureRow[]> {
    return ctx.records.measures.latest(patient);
  }

  @FieldResolver(() => [ScoreAlert])
  alerts(
    @Ctx() ctx: GraphQLContext,
    @Root() patient: PatientRow,
    @Arg('unacknowledgedOnly', () => Boolean, { nullable: true, defaultValue: true })
    unacknowledgedOnly: boolean | null,
  ): Promise<AlertRow[]> {
    return ctx.records.alerts.forPatient(patient, alertsOf({ unacknowledgedOnly }));
  }

  @FieldResolver(() => [TreatmentCourse], {
    description: 'Courses of treatment, from referral to discharge; oldest first.',
  })
  courses(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<TreatmentCourse[]> {
    return ctx.records.courses.forPatient(patient);
  }

  @FieldResolver(() => TreatmentCourse, {
    description: 'The open course, or the one just closed while the patient is discharged.',
  })
  currentCourse(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<TreatmentCourse> {
    return ctx.records.courses.currentOf(patient);
  }

  @FieldResolver(() => [TreatmentPlan], { description: 'Oldest first.' })
  treatmentPlans(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<TreatmentPlan[]> {
    return ctx.records.plans.forPatient(patient);
  }

  @FieldResolver(() => [EligibilityAssessment], { description: 'Oldest first; the latest decides.' })
  eligibilityAssessments(
    @Ctx() ctx: GraphQLContext,
    @Root() patient: PatientRow,
  ): Promise<EligibilityAssessment[]> {
    return ctx.records.pathway.assessments(patient);
  }

  @FieldResolver(() => [Consent], { description: 'Oldest first.' })
  consents(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<Consent[]> {
    return ctx.records.pathway.consents(patient);
  }

  @FieldResolver(() => [Prescription], {
    description: 'Every prescription ever written, void ones included, oldest first.',
  })
  prescriptions(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<Prescription[]> {
    return ctx.records.pathway.prescriptions(patient);
  }

  @FieldResolver(() => [TreatmentSession], { description: 'In scheduled order.' })
  sessions(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<TreatmentSession[]> {
    return ctx.records.sessions.forPatient(patient);
  }

  @FieldResolver(() => TimelineConnection, {
    description:
      'Courses opened and closed, assessments, consents, prescriptions, sessions, measures and alerts, newest first: `first`/`after` page back in time, `last`/`before` towards the newest.',
  })
  timeline(
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Root() patient: PatientRow,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, {
      nullable: true,
      description:
        'The last events of the list (the oldest), or with `before` those just before that cursor (newer than it); not with `first`.',
    })
    last: number | null,
    @Arg('before', () => String, { nullable: true }) before: string | null,
  ): Promise<ConnectionShape<TimelineEntry>> {
    return ctx.records.timeline.forPatient(
      patient,
      { first, after, last, before },
      { defaultFirst: 50, firstGiven: argumentGiven(info, 'first') },
    );
  }

  @FieldResolver(() => [CareTeamMember])
  careTeam(@Ctx() ctx: GraphQLContext, @Root() patient: PatientRow): Promise<CareTeamMemberRow[]> {
    return ctx.records.patients.careTeam(patient);
  }
}

@Resolver(() => CareTeamMember)
export class CareTeamMemberResolver {
  @FieldResolver(() => Clinician)
  clinician(@Root() member: CareTeamMemberRow): ClinicianRow {
    return member.clinician;
  }
}
