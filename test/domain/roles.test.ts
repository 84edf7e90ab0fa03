import { describe, expect, it } from 'vitest';
import {
  ROLE_RULES,
  Role,
  actionRefusal,
  mayDo,
  sessionCompletionRefusal,
  type RoleAction,
} from '../../src/domain/roles';
import { SessionKind } from '../../src/domain/pathway';
import { mayEditSection, PLAN_SECTIONS } from '../../src/domain/plans';

const { PRESCRIBER: P, THERAPIST: T, ADMIN: A } = Role;

describe('ROLE_RULES: who may do what', () => {
  it.each<[RoleAction, Role[]]>([
    ['registerPatients', [P, T]],
    ['changeCareTeams', [P, T]],
    ['changePatientStatus', [P, T]],
    ['recordConsent', [P, T]],
    ['withdrawConsent', [P, T]],
    ['recordMeasures', [P, T]],
    ['acknowledgeAlerts', [P, T]],
    ['scheduleSessions', [P, T]],
    ['createTreatmentPlans', [P, T]],
    ['editTreatmentPlans', [P, T]],
    ['recordEligibility', [P]],
    ['prescribe', [P]],
    ['voidPrescriptions', [P]],
    ['correctPrescriptions', [P]],
    ['writePsychotherapyNotes', [T]],
    ['readAuditLog', [A]],
    ['readAnyClinician', [A]],
  ])('%s: %j', (action, allowed) => {
    for (const role of Object.values(Role)) {
      expect(mayDo(role, action)).toBe(allowed.includes(role));
      expect(actionRefusal(role, action) === undefined).toBe(allowed.includes(role));
    }
  });

  it('names who may, in the refusal', () => {
    expect(actionRefusal(A, 'recordMeasures')).toBe('Only prescribers and therapists may record measures');
    expect(actionRefusal(T, 'prescribe')).toBe('Only a prescriber may prescribe');
    expect(actionRefusal(P, 'readAuditLog')).toBe('Only an admin may read the audit log');
  });

  it.each<[SessionKind, Role[]]>([
    [SessionKind.PREPARATION, [T]],
    [SessionKind.DOSING, [P]],
    [SessionKind.INTEGRATION, [T]],
    [SessionKind.FOLLOW_UP, [P, T]],
  ])('a %s session is completed by %j', (kind, allowed) => {
    for (const role of Object.values(Role))
      expect(sessionCompletionRefusal(role, kind) === undefined).toBe(allowed.includes(role));
  });

  it('the plan sections are the table’s, in its order, with its editors', () => {
    expect(PLAN_SECTIONS.map((s) => s.key)).toEqual(Object.keys(ROLE_RULES.editsSection));
    for (const { key, editableBy } of PLAN_SECTIONS) {
      for (const role of Object.values(Role))
        expect(mayEditSection(role, key)).toBe(editableBy.includes(role));
    }
  });
});
