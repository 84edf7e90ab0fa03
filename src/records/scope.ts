import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../domain/audit';
import type { SignedInClinician } from '../auth/provision';
import { inTransaction, type PlainTransaction } from '../db/plainTransaction';
import { auditStatements, type AuditRow } from '../events/journal';
import { insertAuditRows, type AuditWriter } from './auditWriter';
import { Together } from './together';

export interface AuditEntry {
  /** What was done (src/domain/audit.ts). */
  action: AuditAction;
  patientId?: string;
  entity: string;
  entityId?: string;
}

/** The audit entries of the work `collectAudit` runs, by the scope they were raised in. */
const collecting = new AsyncLocalStorage<{ scope: RequestScope; entries: AuditEntry[] }>();

/**
 * One request's view of the database: its own EntityManager fork, the authenticated clinician and the
 * audit entries its reads and writes produced. Writes commit their audit entries in the same
 * transaction; reads are audited once the request is done, before the response leaves.
 */
export class RequestScope {
  private pending: AuditEntry[] = [];
  /** Reads started in the same turn (a page's list fields), sent as one statement. */
  readonly together: Together;

  constructor(
    readonly em: EntityManager,
    readonly clinician: SignedInClinician,
    readonly requestId: string,
    private readonly auditWriter: AuditWriter,
  ) {
    this.together = new Together(em);
  }

  audit(...entries: AuditEntry[]): void {
    const collector = collecting.getStore();
    (collector?.scope === this ? collector.entries : this.pending).push(...entries);
  }

  /**
   * Runs `work` and hands back, instead of keeping, the audit entries it produced: for work done
   * once on behalf of many callers, each of whom is then audited with `storeReads`. Only what `work`
   * itself raised (in its async context) is collected, not what other work audited in this scope
   * meanwhile: a subscription's scope is audited for other events while one event executes.
   */
  async collectAudit<T>(work: () => Promise<T>): Promise<{ value: T; entries: AuditEntry[] }> {
    const entries: AuditEntry[] = [];
    const value = await collecting.run({ scope: this, entries }, work);
    return { value, entries };
  }

  /** Runs `work` in a transaction that also stores every pending audit entry. */
  write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.storing((toStore) =>
      this.em.transactional(async (em) => {
        const value = await work(em);
        await insertAuditRows(em, toStore());
        return value;
      }),
    );
  }

  /**
   * As `write`, in plain statements without the unit of work (`inTransaction`), for a write on the
   * hot path: the statements `work` ends with go with the pending audit rows and the commit in one
   * round trip (`finish`).
   */
  writeStatements<T>(
    work: (tx: Pick<PlainTransaction, 'run'> & { finish: PlainTransaction['commit'] }) => Promise<T>,
  ): Promise<T> {
    return this.storing((toStore) =>
      inTransaction(this.em, async (tx) => {
        let finished = false;
        const value = await work({
          run: tx.run,
          finish: (...statements) => {
            finished = true;
            return tx.commit(...statements, ...auditStatements(toStore()));
          },
        });
        // Committed any other way, the write would be stored without its audit rows: rolled back.
        if (!finished) throw new Error('A write in plain statements must end with finish()');
        return value;
      }),
    );
  }

  /**
   * Runs a transaction that stores the audit entries pending when it calls `toStore`: dropped from
   * the pending ones once it commits; if it fails, whatever it claimed to have done did not happen,
   * and the reads pending before it stay pending.
   */
  private async storing<T>(transaction: (toStore: () => AuditRow[]) => Promise<T>): Promise<T> {
    const mark = this.pending.length;
    let stored = 0;
    try {
      const result = await transaction(() => {
        stored = this.pending.length;
        return this.rows(this.pending.slice(0, stored));
      });
      this.pending.splice(0, stored);
      return result;
    } catch (error) {
      this.pending.length = Math.min(this.pending.length, mark);
      throw error;
    }
  }

  /**
   * Stores the audit entries of reads. Called before the response is sent;
   * rows of concurrent requests are inserted together.
   */
  async flushAudit(): Promise<void> {
    const entries = this.pending;
    this.pending = [];
    await RequestScope.storeReads([{ scope: this, entries }]);
  }

  /**
   * Stores, for each request, exactly the read entries given (an event's delivery to a subscriber),
   * leaving what is pending in its scope alone; one insert for all of them.
   */
  static storeReads(reads: { scope: RequestScope; entries: AuditEntry[] }[]): Promise<void> {
    if (reads.length === 0) return Promise.resolve();
    return reads[0].scope.auditWriter(reads.flatMap(({ scope, entries }) => scope.rows(entries)));
  }

  /** One row per thing done in a request: a plan reached by two fields of one answer was read once. */
  private rows(entries: AuditEntry[]): AuditRow[] {
    const seen = new Set<string>();
    const unique = entries.filter((entry) => {
      const key = `${entry.action}\n${entry.entity}\n${entry.entityId ?? ''}\n${entry.patientId ?? ''}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return unique.map((entry) => ({
      clinician: this.clinician.id,
      action: entry.action,
      patientId: entry.patientId,
      entity: entry.entity,
      entityId: entry.entityId,
      requestId: this.requestId,
    }));
  }
}
