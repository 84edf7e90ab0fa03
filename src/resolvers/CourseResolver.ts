import { Ctx, FieldResolver, Resolver, Root, type ClassType } from 'type-graphql';
import { PatientStatus } from '../domain/patientStatus';
import {
  Consent,
  EligibilityAssessment,
  Measure,
  Prescription,
  ScoreAlert,
  TreatmentCourse,
  TreatmentPlan,
  TreatmentSession,
} from '../entities';
import type { GraphQLContext } from '../graphql/context';
import type { Reached } from '../records/rows';

@Resolver(() => TreatmentCourse)
export class CourseResolver {
  @FieldResolver(() => PatientStatus, {
    description: 'DISCHARGED once closed; the patient’s status while open.',
  })
  status(@Ctx() ctx: GraphQLContext, @Root() course: TreatmentCourse): Promise<PatientStatus> {
    return ctx.records.courses.status(course);
  }
}

/** `course` on a kind of clinical record: the course that was current when it was recorded. */
function courseOf<T extends { course: Reached }>(type: ClassType<T>) {
  @Resolver(() => type)
  class RecordCourseResolver {
    @FieldResolver(() => TreatmentCourse, {
      description: 'The course of treatment that was current when this was recorded.',
    })
    course(@Ctx() ctx: GraphQLContext, @Root() record: T): Promise<TreatmentCourse> {
      return ctx.records.courses.ofRecord(record);
    }
  }
  return RecordCourseResolver;
}

const recordTypes: ClassType<{ course: Reached }>[] = [
  EligibilityAssessment,
  Consent,
  Prescription,
  TreatmentPlan,
  TreatmentSession,
  Measure,
  ScoreAlert,
];
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's own type for resolver classes
export const recordCourseResolvers: Function[] = recordTypes.map((type) => courseOf(type));
