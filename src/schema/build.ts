import 'reflect-metadata';
import './enums';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { guardTextInputs } from './textInputs';
import { AlertResolver } from '../resolvers/AlertResolver';
import { AuditResolver } from '../resolvers/AuditResolver';
import { ClinicianResolver } from '../resolvers/ClinicianResolver';
import { CourseResolver, recordCourseResolvers } from '../resolvers/CourseResolver';
import { MeasureResolver } from '../resolvers/MeasureResolver';
import { NodeResolver } from '../resolvers/NodeResolver';
import { SessionResolver } from '../resolvers/SessionResolver';
import { ConsentResolver, PathwayResolver, PrescriptionResolver } from '../resolvers/PathwayResolver';
import { PlanResolver, PlanSectionResolver } from '../resolvers/PlanResolver';
import { CareTeamMemberResolver, PatientResolver } from '../resolvers/PatientResolver';

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
