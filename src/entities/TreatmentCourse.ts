import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import { Node } from './Node';

/**
 * One course of treatment, from referral to discharge (CLINICAL.md, "Courses and dosing safety").
 * Every clinical record belongs to the course that was current when it was recorded; a patient's
 * current course is their latest, open until they are discharged.
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'treatment_course' })
export class TreatmentCourse {
  [OptionalProps]?: 'openedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** 1 for the patient's first course, then one more for each referral after a discharge. */
  @Field(() => Int)
  @Property({ type: 'smallint' })
  number!: number;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  openedAt: Date = new Date();

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  openedBy?: Ref<Clinician>;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  closedAt?: Date;

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  closedBy?: Ref<Clinician>;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  dischargeReason?: string;
}
