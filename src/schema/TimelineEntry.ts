import { createUnionType, Field, ObjectType, registerEnumType } from 'type-graphql';
import {
  Consent,
  EligibilityAssessment,
  Measure,
  Prescription,
  ScoreAlert,
  TreatmentCourse,
  TreatmentSession,
} from '../entities';
import { DateTimeScalar } from '../entities/scalars';
import { TimelineKind, type TimelineEvent, type TimelineRecord } from '../records/timeline';

registerEnumType(TimelineKind, { name: 'TimelineKind' });

const TimelineItem = createUnionType({
  name: 'TimelineItem',
  types: () =>
    [
      TreatmentCourse,
      EligibilityAssessment,
      Consent,
      Prescription,
      TreatmentSession,
      Measure,
      ScoreAlert,
    ] as const,
});

/** One event of the patient's record (`TimelineEvent`, src/records/timeline.ts). */
@ObjectType({ simpleResolvers: true })
export class TimelineEntry implements TimelineEvent {
  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => TimelineKind)
  kind!: TimelineKind;

  @Field(() => TimelineItem)
  item!: TimelineRecord;
}
