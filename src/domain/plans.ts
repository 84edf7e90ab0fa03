import { ROLE_RULES, type Role } from './roles';

/** How therapy is arranged around dosing sessions (CLINICAL.md, "Treatment plan"). */
export enum Protocol {
  CONCURRENT = 'CONCURRENT',
  SEPARATE_DAY = 'SEPARATE_DAY',
  SEQUENTIAL = 'SEQUENTIAL',
}

export enum Route {
  IV = 'IV',
  IM = 'IM',
  INTRANASAL_ESKETAMINE = 'INTRANASAL_ESKETAMINE',
  SUBLINGUAL = 'SUBLINGUAL',
  ORAL = 'ORAL',
}

export enum PlanStatus {
  DRAFT = 'DRAFT',
  ACTIVE = 'ACTIVE',
  COMPLETED = 'COMPLETED',
}

/**
 * The sections of the live treatment-plan document (CONTRACT.md §4), in display order: each is a
 * root-level Y.Text named by its key, changed only by the roles listed (`ROLE_RULES.editsSection`).
 */
export const PLAN_SECTIONS: readonly { key: string; editableBy: readonly Role[] }[] = Object.entries(
  ROLE_RULES.editsSection,
).map(([key, editableBy]) => ({ key, editableBy }));

const editors = new Map(PLAN_SECTIONS.map((s) => [s.key, s.editableBy]));

export function isPlanSection(key: string): boolean {
  return editors.has(key);
}

/** Whether `role` may change section `key`; nobody may change a key that is not a section. */
export function mayEditSection(role: Role, key: string): boolean {
  return editors.get(key)?.includes(role) ?? false;
}

/** Why a change to `key` by `role` is refused, naming the section; undefined when it is allowed. */
export function sectionRefusal(role: Role, key: string): string | undefined {
  if (mayEditSection(role, key)) return undefined;
  const who = editors.get(key);
  if (!who) return `"${key}" is not a section of the treatment plan`;
  return `section "${key}" may be changed by ${who.join(' or ')} only, not ${role}`;
}

/** Planned dosing sessions: a course is typically six; more than 52 in one plan is a typing error. */
export const MAX_PLANNED_DOSING_SESSIONS = 52;
