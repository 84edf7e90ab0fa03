import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { AuditEvent, Clinician } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { Connection, type ConnectionShape } from '../schema/connection';

const AuditEventConnection = Connection('AuditEvent', AuditEvent);

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'The audit log, newest first. ADMIN only.' })
  auditLog(
    @Ctx() ctx: GraphQLContext,
    @Arg('patientId', () => ID, { nullable: true }) patientId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConnectionShape<AuditEvent>> {
    return ctx.records.audit.list({ patientId, first: first ?? 50, after });
  }

  @FieldResolver(() => Clinician)
  clinician(@Root() event: AuditEvent): Promise<Clinician> {
    return event.clinician.load() as Promise<Clinician>;
  }
}
