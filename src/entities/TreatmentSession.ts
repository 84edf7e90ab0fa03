import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { AdverseEvent, SessionKind } from '../domain/pathway';
import { Route } from '../domain/plans';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import type { Prescription } from './Prescription';
import type { TreatmentPlan } from './TreatmentPlan';
import { Node } from './Node';

/**
 * A preparation, dosing, integration or follow-up session of a treatment plan. A completed dosing
 * session is the administration record of a Schedule III dose: who, what, how much, when, lot.
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'treatment_session' })
export class TreatmentSession {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @ManyToOne({ entity: 'TreatmentPlan', ref: true })
  plan!: Ref<TreatmentPlan>;

  @Field(() => SessionKind)
  @Enum({ items: () => SessionKind, type: 'text' })
  kind!: SessionKind;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  scheduledAt!: Date;

  /** For an integration session: the dosing session it integrates. */
  @ManyToOne({ entity: 'TreatmentSession', ref: true, nullable: true })
  dosingSession?: Ref<TreatmentSession>;

  @ManyToOne(() => Clinician, { ref: true })
  scheduledBy!: Ref<Clinician>;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  completedAt?: Date;

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  completedBy?: Ref<Clinician>;

  /** For a dose: when it was given (not when it was recorded); the integration window counts from it. */
  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  administeredAt?: Date;

  /** For a dose: the prescriber who gave it. */
  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  administeredBy?: Ref<Clinician>;

  @ManyToOne({ entity: 'Prescription', ref: true, nullable: true })
  prescription?: Ref<Prescription>;

  @Field(() => Route, { nullable: true })
  @Enum({ items: () => Route, type: 'text', nullable: true })
  route?: Route;

  @Field(() => Float, { nullable: true })
  @Property({
    type: 'numeric(7,2)',
    nullable: true,
    serializer: (v?: string | number | null) => (v === null || v === undefined ? v : Number(v)),
  })
  doseMg?: number;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  lotNumber?: string;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  systolicBefore?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  diastolicBefore?: number;

  /** About 40 minutes after the dose. */
  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  systolicAfter?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  diastolicAfter?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  heartRateBefore?: number;

  /** Percent. */
  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  oxygenSaturationBefore?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  heartRateAfter?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  oxygenSaturationAfter?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  systolicAtDischarge?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  diastolicAtDischarge?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  heartRateAtDischarge?: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  oxygenSaturationAtDischarge?: number;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  dischargedAt?: Date;

  /** The prescriber's attestation that the patient was fit to leave. */
  @Field({ nullable: true })
  @Property({ type: 'boolean', nullable: true })
  fitToLeaveAttested?: boolean;

  /** From the dose to discharge, in whole minutes. */
  @Field(() => Int, { nullable: true })
  @Property({ type: 'smallint', nullable: true })
  minutesMonitored?: number;

  @Field(() => [AdverseEvent], { nullable: true })
  @Enum({ items: () => AdverseEvent, array: true, type: 'text[]', nullable: true })
  adverseEvents?: AdverseEvent[];

  /** Why the prescriber dosed despite a pre-dose blood pressure above 180/100. */
  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  bloodPressureOverrideReason?: string;

  /** Why the prescriber dosed within 24 hours of another dose, or a third esketamine dose within seven days. */
  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  doseSpacingOverrideReason?: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
