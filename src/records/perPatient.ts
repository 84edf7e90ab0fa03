import type { EntityClass, EntityDictionary } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { RequestScope } from './scope';
import { statementOf, type Buildable } from './together';

/**
 * A list field of a patient, read for every patient of a page at once. GraphQL resolves the field for
 * each patient of the page in the same tick; the calls made with the same arguments are gathered and
 * answered by one statement over all their patients, so a page costs the same number of statements
 * whatever its size. Per request, batching only: nothing is cached (a subscription's records outlive
 * one event, and a write in between must be seen).
 */
export class PerPatient<Args, Row> {
  private readonly loaders = new Map<string, DataLoader<string, Row[]>>();

  /**
   * `read` returns the rows of all the patients named, in each patient's order; `patientOf` says whose
   * each row is.
   */
  constructor(
    private readonly read: (patientIds: string[], args: Args) => Promise<Row[]>,
    private readonly patientOf: (row: Row) => string,
  ) {}

  of(patientId: string, args: Args): Promise<Row[]> {
    const key = JSON.stringify(args);
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, Row[]>(
        async (ids) => {
          const byPatient = new Map<string, Row[]>();
          for (const row of await this.read([...new Set(ids)], args)) {
            const id = this.patientOf(row);
            const rows = byPatient.get(id);
            if (rows) rows.push(row);
            else byPatient.set(id, [row]);
          }
          return ids.map((id) => byPatient.get(id) ?? []);
        },
        { cache: false },
      );
      this.loaders.set(key, loader);
    }
    return loader.load(patientId);
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
