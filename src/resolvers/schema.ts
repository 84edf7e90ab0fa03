import 'reflect-metadata';
import '../schema/enums';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { guardTextInputs } from '../schema/textInputs';
import { AlertResolver } from './AlertResolver';
import { AuditResolver } from './AuditResolver';
import { ClinicianResolver } from './ClinicianResolver';
import { CourseResolver, recordCourseResolvers } from './CourseResolver';
import { MeasureResolver } from './MeasureResolver';
import { NodeResolver } from './NodeResolver';
import { SessionResolver } from './SessionResolver';
import { ConsentResolver, PathwayResolver, PrescriptionResolver } from './PathwayResolver';
import { PlanResolver, PlanSectionResolver } from './PlanResolver';
import { CareTeamMemberResolver, PatientResolver } from './PatientResolver';

const resolvers = [
  ClinicianResolver,
  PatientResolver,
  CareTeamMemberResolver,
  MeasureResolver,
  AlertResolver,
  PlanResolver,
  PlanSectionResolver,
  PathwayResolver,
  PrescriptionResolver,
  ConsentResolver,
  SessionResolver,
  AuditResolver,
  NodeResolver,
  CourseResolver,
  ...recordCourseResolvers,
] as const;

/**
 * type-graphql insists on a PubSub once any subscription exists, even though every subscription
 * here brings its own event source (`subscribe:`, fed by PostgreSQL LISTEN). Topic-based use is a
 * programming error, so it throws.
 */
const noTopics = {
  publish(): never {
    throw new Error('Subscriptions read the event hub (src/events), not topics');
  },
  subscribe(): never {
    throw new Error('Subscriptions read the event hub (src/events), not topics');
  },
};

export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers, validate: false, pubSub: noTopics });
  guardTextInputs(schema);
  return schema;
}

/** The schema as checked in at src/schema/schema.graphql. */
export function printGraphQLSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
