import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { TreatmentSession } from './TreatmentSession';
import { Node } from './Node';

/**
 * A therapist's own notes on a session (HIPAA "psychotherapy notes"): read and written by their
 * author alone. Reachable only through `psychotherapyNote(sessionId)`, never from another type, so
 * no list, plan, timeline or subscription can carry it.
 */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'psychotherapy_note' })
@Unique({ properties: ['session', 'author'] })
export class PsychotherapyNote {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'TreatmentSession', ref: true })
  session!: Ref<TreatmentSession>;

  @ManyToOne(() => Clinician, { ref: true })
  author!: Ref<Clinician>;

  @Field()
  @Property({ type: 'text' })
  text!: string;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
