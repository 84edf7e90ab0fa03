import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, Extensions, FieldResolver, ID, Info, Int, Query, Resolver, Root } from 'type-graphql';
import { AuditEvent, Clinician } from '../entities';
import type { GraphQLContext } from '../graphql/context';
import { argumentGiven, Connection } from '../schema/connection';
import type { ConnectionShape } from '../records/paging';
import { MAX_AUDIT_PAGE_SIZE } from '../records/paging';
import { largestPage } from '../schema/pageSize';

const AuditEventConnection = Connection('AuditEvent', AuditEvent);

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description:
      'The audit log, newest first. ADMIN only. `first`/`after` page back in time, `last`/`before` towards the newest.',
  })
  @Extensions(largestPage(MAX_AUDIT_PAGE_SIZE))
  auditLog(
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('patientId', () => ID, { nullable: true }) patientId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, {
      nullable: true,
      description:
        'The last rows of the list (the oldest), or with `before` those just before that cursor (newer than it); not with `first`.',
    })
    last: number | null,
    @Arg('before', () => String, { nullable: true }) before: string | null,
  ): Promise<ConnectionShape<AuditEvent>> {
    return ctx.records.audit.list(
      { patientId, first, after, last, before },
      { defaultFirst: 50, firstGiven: argumentGiven(info, 'first') },
    );
  }

  @FieldResolver(() => Clinician)
  clinician(@Root() event: AuditEvent): Promise<Clinician> {
    return event.clinician.load() as Promise<Clinician>;
  }
}
