import { OptionalProps, Entity, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../ids';
import { DateScalar, DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import { Node } from './Node';

/** Informed consent to KAP: which text the patient read, when, and what they acknowledged. */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'consent' })
export class Consent {
  [OptionalProps]?: 'recordedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @Field()
  @Property({ type: 'text' })
  textVersion!: string;

  @Field(() => DateScalar)
  @Property({ type: 'date' })
  consentedOn!: string;

  @Field()
  @Property()
  acknowledgesRisks!: boolean;

  @Field()
  @Property()
  acknowledgesOffLabelUse!: boolean;

  @Field()
  @Property()
  acknowledgesIntegration!: boolean;

  @ManyToOne(() => Clinician, { ref: true })
  recordedBy!: Ref<Clinician>;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  recordedAt: Date = new Date();

  /** A withdrawn consent stays on the record; no dose follows it until a new consent is recorded. */
  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  withdrawnAt?: Date;

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  withdrawnBy?: Ref<Clinician>;

  @Field({ nullable: true })
  @Property({ type: 'text', nullable: true })
  withdrawalReason?: string;
}
