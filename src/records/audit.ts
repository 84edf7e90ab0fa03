import type { FilterQuery } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { AuditEvent } from '../entities';
import { badInput } from '../errors';
import { parseId } from '../ids';
import { decodeCursor, pageSize, toConnection, type ConnectionShape } from '../schema/connection';
import type { RequestScope } from './scope';

/** The audit log, newest first. Admins only; reading it touches no patient data. */
export class AuditRecords {
  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
  ) {}

  async list(args: { patientId?: string | null; first: number; after?: string | null }): Promise<ConnectionShape<AuditEvent>> {
    this.access.requireAdmin();
    const first = pageSize(args.first, 500);
    const after = decodeCursor(args.after);
    const where: FilterQuery<AuditEvent>[] = [];
    if (args.patientId) where.push({ patientId: parseId(args.patientId, 'patientId') });
    const filter = [...where];
    if (after !== undefined) {
      if (!/^\d{1,19}$/.test(after)) throw badInput('after is not a valid cursor');
      where.push({ id: { $lt: after } });
    }
    const rows = await this.scope.em.find(AuditEvent, { $and: where }, { orderBy: { id: 'desc' }, limit: first + 1 });
    // The log only grows: a count of all of it reads the whole index (README).
    return toConnection(rows, first, (event) => event.id, { after: args.after, count: () => this.scope.em.count(AuditEvent, { $and: filter }) });
  }
}
