import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent, type Clinician } from '../entities';

export interface AuditEntry {
  /** What was done, `<entity>.<verb>`: `patient.read`, `careTeam.add`, … */
  action: string;
  patientId?: string;
  entity: string;
  entityId?: string;
}

/**
 * One request's view of the database: its own EntityManager fork, the authenticated clinician and the
 * audit entries its reads and writes produced. Writes commit their audit entries in the same
 * transaction; reads are audited once the request is done, before the response leaves.
 */
export class RequestScope {
  private pending: AuditEntry[] = [];

  constructor(
    readonly em: EntityManager,
    readonly clinician: Clinician,
    readonly requestId: string,
  ) {}

  audit(...entries: AuditEntry[]): void {
    this.pending.push(...entries);
  }

  /** Runs `work` in a transaction that also stores every pending audit entry. */
  async write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const mark = this.pending.length;
    try {
      const result = await this.em.transactional(async (em) => {
        const value = await work(em);
        await this.insertPending(em);
        return value;
      });
      return result;
    } catch (error) {
      // Whatever the failed write claimed to have done did not happen.
      this.pending.length = Math.min(this.pending.length, mark);
      throw error;
    }
  }

  /** Stores the audit entries of reads. Called before the response is sent. */
  async flushAudit(): Promise<void> {
    await this.insertPending(this.em);
  }

  private async insertPending(em: EntityManager): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending.map((entry) => ({
      clinician: this.clinician.id,
      action: entry.action,
      patientId: entry.patientId,
      entity: entry.entity,
      entityId: entry.entityId,
      requestId: this.requestId,
      at: new Date(),
    }));
    await em.insertMany(AuditEvent, rows);
    this.pending = [];
  }
}
