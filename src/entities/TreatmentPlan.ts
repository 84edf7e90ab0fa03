import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { PlanStatus, Protocol, Route } from '../domain/plans';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import { Node } from './Node';

/**
 * A patient's treatment plan. Its sections are the live document (src/collab), stored as an update
 * log and snapshot beside this row, not as columns.
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'treatment_plan' })
export class TreatmentPlan {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @Field(() => PlanStatus)
  @Enum({ items: () => PlanStatus, type: 'text' })
  status: PlanStatus = PlanStatus.DRAFT;

  @Field(() => Protocol)
  @Enum({ items: () => Protocol, type: 'text' })
  protocol!: Protocol;

  @Field(() => Route)
  @Enum({ items: () => Route, type: 'text' })
  route!: Route;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  plannedDosingSessions!: number;

  @ManyToOne(() => Clinician, { ref: true })
  createdBy!: Ref<Clinician>;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** Last change to the plan or its document. */
  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
