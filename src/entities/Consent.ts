import { OptionalProps, Entity, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../ids';
import { DateScalar, DateTimeScalar } from '../schema/scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';

/** Informed consent to KAP: which text the patient read, when, and what they acknowledged. */
@ObjectType()
@Entity({ tableName: 'consent' })
export class Consent {
  [OptionalProps]?: 'recordedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

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
}
