import { describe, expect, it } from 'vitest';
import { mayEditSection, PLAN_SECTIONS, sectionRefusal } from '../../src/domain/plans';
import { Role } from '../../src/domain/roles';

describe('who may change which section (CONTRACT.md §4)', () => {
  const table: [string, Role, boolean][] = [
    ['intentions', Role.THERAPIST, true],
    ['intentions', Role.PRESCRIBER, false],
    ['preparation', Role.THERAPIST, true],
    ['preparation', Role.PRESCRIBER, false],
    ['integration', Role.THERAPIST, true],
    ['integration', Role.PRESCRIBER, false],
    ['medication', Role.PRESCRIBER, true],
    ['medication', Role.THERAPIST, false],
    ['monitoring', Role.PRESCRIBER, true],
    ['monitoring', Role.THERAPIST, false],
    ['safetyPlan', Role.PRESCRIBER, true],
    ['safetyPlan', Role.THERAPIST, true],
    ['notes', Role.PRESCRIBER, true],
    ['notes', Role.THERAPIST, true],
    ['notes', Role.ADMIN, false],
    ['medication', Role.ADMIN, false],
    ['unknownRoot', Role.PRESCRIBER, false],
    ['Medication', Role.PRESCRIBER, false],
  ];
  it.each(table)('%s by %s: %s', (key, role, allowed) => {
    expect(mayEditSection(role, key)).toBe(allowed);
    expect(sectionRefusal(role, key) === undefined).toBe(allowed);
    if (!allowed) expect(sectionRefusal(role, key)).toContain(`"${key}"`);
  });

  it('has the seven sections of the contract, in order', () => {
    expect(PLAN_SECTIONS.map((s) => s.key)).toEqual([
      'intentions',
      'preparation',
      'integration',
      'medication',
      'monitoring',
      'safetyPlan',
      'notes',
    ]);
  });
});
