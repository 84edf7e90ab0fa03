/** Who a clinician is in the collaborative-care model. Token claims carry the lower-case form. */
export enum Role {
  PRESCRIBER = 'PRESCRIBER',
  THERAPIST = 'THERAPIST',
  ADMIN = 'ADMIN',
}

/** Roles that hold clinical responsibility and so may join a care team. */
export const CLINICAL_ROLES: readonly Role[] = [Role.PRESCRIBER, Role.THERAPIST];

export function roleFromClaim(claim: unknown): Role | undefined {
  if (typeof claim !== 'string') return undefined;
  const upper = claim.toUpperCase();
  return (Object.values(Role) as string[]).includes(upper) ? (upper as Role) : undefined;
}

const PRESCRIBER = [Role.PRESCRIBER] as const;
const THERAPIST = [Role.THERAPIST] as const;
const ADMIN = [Role.ADMIN] as const;

/**
 * Who may do what, by role: the one table every check reads (src/auth/access.ts for the records,
 * src/collab/permissions.ts for the live document, GraphQL's `PlanSection.canEdit`). Being on the
 * patient's care team is required besides, for everything clinical.
 */
export const ROLE_RULES = {
  /** Actions, each with the words its refusal uses ("Only … may <doing>"). */
  actions: {
    registerPatients: { roles: CLINICAL_ROLES, doing: 'register patients' },
    changeCareTeams: { roles: CLINICAL_ROLES, doing: 'change care teams' },
    changePatientStatus: { roles: CLINICAL_ROLES, doing: 'change a patient’s status' },
    recordConsent: { roles: CLINICAL_ROLES, doing: 'record consent' },
    withdrawConsent: { roles: CLINICAL_ROLES, doing: 'record a withdrawal of consent' },
    recordMeasures: { roles: CLINICAL_ROLES, doing: 'record measures' },
    acknowledgeAlerts: { roles: CLINICAL_ROLES, doing: 'acknowledge alerts' },
    scheduleSessions: { roles: CLINICAL_ROLES, doing: 'schedule sessions' },
    createTreatmentPlans: { roles: CLINICAL_ROLES, doing: 'create treatment plans' },
    editTreatmentPlans: { roles: CLINICAL_ROLES, doing: 'edit treatment plans' },
    recordEligibility: { roles: PRESCRIBER, doing: 'record eligibility assessments' },
    prescribe: { roles: PRESCRIBER, doing: 'prescribe' },
    voidPrescriptions: { roles: PRESCRIBER, doing: 'void prescriptions' },
    correctPrescriptions: { roles: PRESCRIBER, doing: 'correct prescriptions' },
    writePsychotherapyNotes: { roles: THERAPIST, doing: 'write psychotherapy notes' },
    readAuditLog: { roles: ADMIN, doing: 'read the audit log' },
    /** Any clinician's profile; others see only those they share a care team with. */
    readAnyClinician: { roles: ADMIN, doing: 'read any clinician' },
  },
  /** Who completes which kind of session: the prescriber gives doses, the therapist does the therapy. */
  completesSession: {
    PREPARATION: THERAPIST,
    DOSING: PRESCRIBER,
    INTEGRATION: THERAPIST,
    FOLLOW_UP: CLINICAL_ROLES,
  },
  /**
   * Who changes each section of the live treatment-plan document (CONTRACT.md §4), in display
   * order. The therapist owns the psychotherapy, the prescriber the medicine; both write the safety
   * plan and notes.
   */
  editsSection: {
    intentions: THERAPIST,
    preparation: THERAPIST,
    integration: THERAPIST,
    medication: PRESCRIBER,
    monitoring: PRESCRIBER,
    safetyPlan: CLINICAL_ROLES,
    notes: CLINICAL_ROLES,
  },
} as const satisfies {
  actions: Record<string, { roles: readonly Role[]; doing: string }>;
  completesSession: Record<string, readonly Role[]>;
  editsSection: Record<string, readonly Role[]>;
};

export type RoleAction = keyof typeof ROLE_RULES.actions;

export function mayDo(role: Role, action: RoleAction): boolean {
  return (ROLE_RULES.actions[action].roles as readonly Role[]).includes(role);
}

/** Why `role` may not do `action`; undefined when it may. */
export function actionRefusal(role: Role, action: RoleAction): string | undefined {
  if (mayDo(role, action)) return undefined;
  const { roles, doing } = ROLE_RULES.actions[action];
  const who =
    roles === CLINICAL_ROLES
      ? 'prescribers and therapists'
      : { PRESCRIBER: 'a prescriber', THERAPIST: 'a therapist', ADMIN: 'an admin' }[roles[0]];
  return `Only ${who} may ${doing}`;
}

/** Why `role` may not complete a session of `kind`; undefined when it may. */
export function sessionCompletionRefusal(
  role: Role,
  kind: keyof typeof ROLE_RULES.completesSession,
): string | undefined {
  const roles: readonly Role[] = ROLE_RULES.completesSession[kind];
  return roles.includes(role) ? undefined : `A ${kind} session is completed by ${roles.join(' or ')} only`;
}
