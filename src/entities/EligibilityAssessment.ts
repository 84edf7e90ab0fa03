import { OptionalProps, Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Contraindication, EligibilityDecision } from '../domain/pathway';
import { newId } from '../ids';
import { DateTimeScalar } from './scalars';
import { Clinician } from './Clinician';
import type { Patient } from './Patient';
import type { TreatmentCourse } from './TreatmentCourse';
import { Node } from './Node';

/** The prescriber's screening of a patient for ketamine or esketamine. Never changed; a new one supersedes it. */
@ObjectType({ implements: Node, simpleResolvers: true })
@Entity({ tableName: 'eligibility_assessment' })
export class EligibilityAssessment {
  [OptionalProps]?: 'assessedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne({ entity: 'Patient', ref: true })
  patient!: Ref<Patient>;

  /** The course that was current when this was recorded. */
  @ManyToOne({ entity: 'TreatmentCourse', ref: true })
  course!: Ref<TreatmentCourse>;

  @Field(() => [Contraindication])
  @Enum({ items: () => Contraindication, array: true, type: 'text[]' })
  contraindications!: Contraindication[];

  /** Relative cautions, in the prescriber's words (e.g. "controlled hypertension on two agents"). */
  @Field(() => [String])
  @Property({ type: 'text[]' })
  cautions!: string[];

  @Field(() => Int)
  @Property({ type: 'smallint' })
  baselineSystolic!: number;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  baselineDiastolic!: number;

  @Field(() => EligibilityDecision)
  @Enum({ items: () => EligibilityDecision, type: 'text' })
  decision!: EligibilityDecision;

  @ManyToOne(() => Clinician, { ref: true })
  assessedBy!: Ref<Clinician>;

  @Field(() => DateTimeScalar)
  @Property({ type: 'timestamptz' })
  assessedAt: Date = new Date();
}
