import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { AlertKind, AlertLevel } from '../domain/alerts';
import { Instrument } from '../domain/instruments';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Measure } from './Measure';
import type { Patient } from './Patient';
import type { TreatmentSession } from './TreatmentSession';
import type { TreatmentCourse } from './TreatmentCourse';
import { Node } from './Node';

/** An alert raised by a stored measure or a dosing session's vital signs, for the care team to act on and acknowledge. */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'score_alert' })
export class ScoreAlert {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  /** The measure that raised it; or else `session`. */
  @ManyToOne({ entity: 'Measure', ref: true, nullable: true })
  measure?: Ref<Measure>;

  /** The dosing session whose vital signs raised it (VITAL_SIGNS). */
  @ManyToOne({ entity: 'TreatmentSession', ref: true, nullable: true })
  session?: Ref<TreatmentSession>;

  /** Copied from the measure so that "once per course and instrument" is a unique index. */
  @Enum({ items: () => Instrument, type: 'text', nullable: true })
  instrument?: Instrument;

  @Field(() => AlertKind)
  @Enum({ items: () => AlertKind, type: 'text' })
  kind!: AlertKind;

  @Field(() => AlertLevel)
  @Enum({ items: () => AlertLevel, type: 'text' })
  level!: AlertLevel;

  @Field()
  @Property({ type: 'text' })
  message!: string;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  acknowledgedAt?: Date;

  @ManyToOne(() => Clinician, { ref: true, nullable: true })
  acknowledgedBy?: Ref<Clinician>;
}
