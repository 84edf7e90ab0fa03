import { OptionalProps, Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Medication } from '../domain/pathway';
import { Route } from '../domain/plans';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import { Node } from './Node';

/**
 * A Schedule III prescription. Never deleted and never edited: a correction voids it with a reason
 * and writes a new one that names it (`replaces`). The database refuses anything else.
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'prescription' })
export class Prescription {
  [OptionalProps]?: 'prescribedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @Field(() => Medication)
  @Enum({ items: () => Medication, type: 'text' })
  medication!: Medication;

  @Field(() => Route)
  @Enum({ items: () => Route, type: 'text' })
  route!: Route;

  @Field(() => Float)
  @Property({ type: 'numeric(7,2)', serializer: Number })
  doseMg!: number;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  quantity!: number;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  refills!: number;

  @ManyToOne(() => Clinician, { ref: true })
  prescribedBy!: Ref<Clinician>;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  prescribedAt: Date = new Date();

  @ManyToOne(() => Prescription, { ref: true, nullable: true })
  replaces?: Ref<Prescription>;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  voidedAt?: Date;

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  voidedBy?: Ref<Clinician>;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  voidReason?: string;
}
