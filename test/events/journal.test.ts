import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditAction } from '../../src/domain/audit';
import { auditStatements, type AuditRow } from '../../src/events/journal';

/** What INSERT_AUDIT_ROWS makes of its ten arrays, joined as the statement joins them. */
function decode(params: readonly unknown[]): AuditRow[] {
  const [record, by, kind, patient, entityId, action, entity, clinician, request, patients] = params as [
    number[],
    number[],
    number[],
    (number | null)[],
    (string | null)[],
    AuditAction[],
    string[],
    string[],
    string[],
    string[],
  ];
  return record.map((r, i) => {
    const p = patient[r - 1];
    const id = entityId[r - 1];
    return {
      clinician: clinician[by[i] - 1],
      action: action[kind[r - 1] - 1],
      ...(p === null ? {} : { patientId: patients[p - 1] }),
      entity: entity[kind[r - 1] - 1],
      ...(id === null ? {} : { entityId: id }),
      requestId: request[by[i] - 1],
    };
  });
}

// Few distinct values, so that rows share clinicians, kinds, patients and records, in runs and apart.
const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const row: fc.Arbitrary<AuditRow> = fc.record(
  {
    clinician: pick('c1', 'c2'),
    action: pick<AuditAction>('patient.read', 'measure.read', 'alert.read'),
    patientId: pick('p1', 'p2', 'null'),
    entity: pick('Patient', 'Measure'),
    entityId: pick('e1', 'e2', 'null', 'e 1', ''),
    requestId: pick('r1', 'r2'),
  },
  { requiredKeys: ['clinician', 'action', 'entity', 'requestId'] },
);

describe('the audit rows as arrays', () => {
  it('give back every row as it was, in order: a missing id and an id spelt "null" stay apart', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
        const [{ params }] = auditStatements(rows);
        expect(decode(params)).toEqual(rows);
      }),
      { numRuns: 2000 },
    );
  });
});
