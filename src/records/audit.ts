import type { FilterQuery } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { AuditEvent } from '../entities';
import { badInput } from '../errors';
import { parseId } from '../ids';
import { pageRequest, toConnection, type ConnectionShape, type PageArguments } from './paging';
import { MAX_AUDIT_PAGE_SIZE } from './paging';
import type { RequestScope } from './scope';

/** The audit log, newest first. Admins only; reading it touches no patient data. */
export class AuditRecords {
  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
  ) {}

  /** Newest first: `first`/`after` page back in time, `last`/`before` forward towards the newest. */
  async list(
    args: { patientId?: string | null } & PageArguments,
    paging: { defaultFirst: number; firstGiven: boolean },
  ): Promise<ConnectionShape<AuditEvent>> {
    this.access.requireRole('readAuditLog');
    const page = pageRequest(args, { ...paging, max: MAX_AUDIT_PAGE_SIZE });
    const where: FilterQuery<AuditEvent>[] = [];
    if (args.patientId) where.push({ patientId: parseId(args.patientId, 'patientId') });
    const filter = [...where];
    if (page.after !== undefined) where.push({ id: { $lt: eventId(page.after, 'after') } });
    if (page.before !== undefined) where.push({ id: { $gt: eventId(page.before, 'before') } });
    const rows = await this.scope.em.find(
      AuditEvent,
      { $and: where },
      { orderBy: { id: page.fromEnd ? 'asc' : 'desc' }, limit: page.size + 1 },
    );
    // The log only grows: a count of all of it reads the whole index (README).
    return toConnection(
      rows,
      page,
      (event) => event.id,
      () => this.scope.em.count(AuditEvent, { $and: filter }),
    );
  }
}

function eventId(key: string, argument: string): string {
  if (!/^\d{1,19}$/.test(key)) throw badInput(`${argument} is not a valid cursor`);
  return key;
}
