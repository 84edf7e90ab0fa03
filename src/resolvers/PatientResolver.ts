import type { GraphQLResolveInfo } from 'graphql';
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
import { argumentGiven, Connection, nodeFieldsSelected } from '../schema/connection';
import type { Records } from '../records';
import type { ConnectionShape } from '../records/paging';
import type { PageIds } from '../records/together';
import type { AlertRow, CareTeamMemberRow, ClinicianRow, MeasureRow, PatientRow } from '../records/rows';
import { DateScalar } from '../entities/scalars';
import { TimelineEntry } from '../schema/TimelineEntry';

/**
 * List fields of a page's patients read in the page's own statement when the operation selects them
 * (one round trip for the page and these instead of two). Any other field is read after the page, as
 * before; a field here that the answer skips costs a read, never an audit row.
 */
const READ_AHEAD: [string, (records: Records, page: PageIds) => void][] = [
  ['careTeam', (records, page) => records.patients.readCareTeamsAhead(page)],
  ['latestMeasures', (records, page) => records.measures.readLatestAhead(page)],
];

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
    const selected = nodeFieldsSelected(info);
    return ctx.records.patients.list({ first: first ?? 20, after, status }, (page) => {
      for (const [field, read] of READ_AHEAD) if (selected.has(field)) read(ctx.records, page);
    });
  }

  @Query(() => Patient, { nullable: true, description: 'FORBIDDEN when the caller is not on its care team.' })
  patient(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Patient | null> {
    return ctx.records.patients.get(id);
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
      { instrument, first, after, last, before },
      { defaultFirst: 50, firstGiven: argumentGiven(info, 'first') },
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
    return ctx.records.alerts.forPatient(patient, unacknowledgedOnly ?? true);
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
