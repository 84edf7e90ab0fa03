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

export enum TimelineKind {
  COURSE_OPENED = 'COURSE_OPENED',
  COURSE_CLOSED = 'COURSE_CLOSED',
  ELIGIBILITY_ASSESSMENT = 'ELIGIBILITY_ASSESSMENT',
  CONSENT = 'CONSENT',
  PRESCRIPTION = 'PRESCRIPTION',
  SESSION = 'SESSION',
  MEASURE = 'MEASURE',
  SCORE_ALERT = 'SCORE_ALERT',
}
registerEnumType(TimelineKind, { name: 'TimelineKind' });

export type TimelineRecord =
  TreatmentCourse | EligibilityAssessment | Consent | Prescription | TreatmentSession | Measure | ScoreAlert;

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

/**
 * One event of the patient's record, at the time it happened (a session: when held, else when planned;
 * a course: once when it opened and once when it closed).
 */
@ObjectType()
export class TimelineEntry {
  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => TimelineKind)
  kind!: TimelineKind;

  @Field(() => TimelineItem)
  item!: TimelineRecord;
}
