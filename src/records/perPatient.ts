import type { EntityClass, EntityDictionary } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { RequestScope } from './scope';
import { statementOf, type Buildable, type PageIds } from './together';

/**
 * A list field of a patient, read for every patient of a page at once. GraphQL resolves the field for
 * each patient of the page in the same tick; the calls made with the same arguments are gathered and
 * answered by one statement over all their patients, so a page costs the same number of statements
 * whatever its size. Per request, batching only: nothing is cached (a subscription's records outlive
 * one event, and a write in between must be seen).
 */
export class PerPatient<Args, Row, Ids extends string[] | PageIds = string[]> {
  private readonly loaders = new Map<string, DataLoader<string, Row[]>>();
  /** Rows read ahead for a page's patients (`ahead`), by arguments. */
  private readonly readAhead = new Map<
    string,
    Promise<{ ids: ReadonlySet<string>; rows: Map<string, Row[]> }>
  >();

  /**
   * `read` returns the rows of all the patients named, in each patient's order; `patientOf` says whose
   * each row is. A `read` that takes `PageIds` as well (it only binds the ids as a parameter of a
   * `Together` read) can be read ahead.
   */
  constructor(
    private readonly read: (patientIds: Ids, args: Args) => Promise<Row[]>,
    private readonly patientOf: (row: Row) => string,
  ) {}

  of(patientId: string, args: Args): Promise<Row[]> {
    const key = JSON.stringify(args);
    const ahead = this.readAhead.get(key);
    if (ahead)
      return ahead.then(({ ids, rows }) =>
        ids.has(patientId) ? (rows.get(patientId) ?? []) : this.load(key, patientId, args),
      );
    return this.load(key, patientId, args);
  }

  /**
   * Reads the field for the patients of a page still being read, in the page's statement: their
   * calls to `of` then take these rows instead of a statement of their own.
   */
  ahead(this: PerPatient<Args, Row, string[] | PageIds>, page: PageIds, args: Args): void {
    const rows = this.read(page, args);
    const read = Promise.all([page.returned, rows]).then(([ids, rows]) => ({
      ids,
      rows: this.byPatient(rows),
    }));
    const key = JSON.stringify(args);
    this.readAhead.set(key, read);
    // Taken only by the page's own fields, which GraphQL resolves as soon as the page is read; a
    // later call (a subscription's next event shares these records) reads afresh. A failure is seen
    // by whoever asks for the field, and fails nobody who did not.
    const forget = () => {
      if (this.readAhead.get(key) === read) this.readAhead.delete(key);
    };
    read.then(() => setImmediate(forget), forget);
  }

  private load(key: string, patientId: string, args: Args): Promise<Row[]> {
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, Row[]>(
        async (ids) => {
          const byPatient = this.byPatient(await this.read([...new Set(ids)] as Ids, args));
          return ids.map((id) => byPatient.get(id) ?? []);
        },
        { cache: false },
      );
      this.loaders.set(key, loader);
    }
    return loader.load(patientId);
  }

  private byPatient(rows: Row[]): Map<string, Row[]> {
    const byPatient = new Map<string, Row[]>();
    for (const row of rows) {
      const id = this.patientOf(row);
      const list = byPatient.get(id);
      if (list) list.push(row);
      else byPatient.set(id, [row]);
    }
    return byPatient;
  }
}

/**
 * The entities a query builder selects, read in the same statement as the page's other list fields
 * (`RequestScope.together`).
 */
export async function readTogether<T extends object>(
  scope: RequestScope,
  entity: EntityClass<T>,
  qb: Buildable,
): Promise<T[]> {
  const rows = await scope.together.read(statementOf(qb));
  return rows.map((row) => mapRow(scope, entity, row));
}

/**
 * A row the server has just read, as a managed entity. Unchecked and not cascaded: the row is as
 * stored, and its relations are references by id (to entities already in the identity map, such
 * as a care team's clinicians, where they were read with it). Checking and cascading were a
 * quarter of the server's time on a page of patients.
 */
export function mapRow<T extends object>(
  scope: RequestScope,
  entity: EntityClass<T>,
  row: Record<string, unknown>,
): T {
  return scope.em.map(
    entity,
    row as EntityDictionary<T>,
    { validate: false, cascade: false } as { schema?: string },
  );
}
