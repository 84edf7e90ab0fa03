import 'reflect-metadata';
import './enums';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AuditResolver } from '../resolvers/AuditResolver';
import { ClinicianResolver } from '../resolvers/ClinicianResolver';
import { CareTeamMemberResolver, PatientResolver } from '../resolvers/PatientResolver';

export const resolvers = [ClinicianResolver, PatientResolver, CareTeamMemberResolver, AuditResolver] as const;

export function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, validate: false });
}

/** The schema as checked in at src/schema/schema.graphql. */
export function printGraphQLSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
