import {
  Collection,
  Entity,
  Enum,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Instrument, SeverityBand } from '../domain/instruments';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import type { ScoreAlert } from './ScoreAlert';
import { Node } from './Node';

/** One administration of a standardized outcome measure, scored on the server. */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'measure' })
export class Measure {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @Field(() => Instrument)
  @Enum({ items: () => Instrument, type: 'text' })
  instrument!: Instrument;

  /** In item order, as answered. */
  @Field(() => [Int])
  @Property({ type: 'json' })
  responses!: number[];

  @Field(() => Int)
  @Property({ type: 'smallint' })
  totalScore!: number;

  @Field(() => SeverityBand)
  @Enum({ items: () => SeverityBand, type: 'text' })
  severity!: SeverityBand;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  administeredAt!: Date;

  @ManyToOne(() => Clinician, { ref: true })
  recordedBy!: Ref<Clinician>;

  @OneToMany({ entity: 'ScoreAlert', mappedBy: 'measure' })
  alerts = new Collection<ScoreAlert>(this);

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
