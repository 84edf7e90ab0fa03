import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import { issueCollabTicket, type IssuedTicket } from '../auth/collabTickets';
import { READ_ACTION } from '../domain/audit';
import {
  MAX_PLANNED_DOSING_SESSIONS,
  PLAN_SECTIONS,
  isPlanSection,
  mayEditSection,
  sectionRefusal,
  type Protocol,
  type Route,
} from '../domain/plans';
import type { Role } from '../domain/roles';
import { PatientStatus } from '../domain/patientStatus';
import { TreatmentPlan, type TreatmentSession } from '../entities';
import { badInput, conflict, forbidden, notFound } from '../errors';
import { parseId } from '../ids';
import { LiveSubscription, type LiveSources } from './liveSubscription';
import { PerPatient, readTogether } from './perPatient';
import type { CourseRecords } from './courses';
import type { PatientRow } from './rows';
import type { RequestScope } from './scope';

export interface NewPlan {
  patientId: string;
  protocol: Protocol;
  route: Route;
  plannedDosingSessions: number;
}

/**
 * One section of a plan's live document, as it is stored (GraphQL's `PlanSection`, whose `canEdit` is
 * resolved per caller).
 */
export interface PlanSectionText {
  key: string;
  text: string;
  editableBy: Role[];
}

/** A section holds a plan's prose, not a record dump: a generous limit that stops accidents. */
const MAX_SECTION_CHARS = 100_000;

/**
 * The live documents, as the records use them: implemented by the collab rooms (src/collab/rooms.ts),
 * which sit above the records, so the records name only what they need.
 */
export interface LiveDocuments {
  with<T>(planId: string, patientId: string, work: (document: LiveDocument) => Promise<T>): Promise<T>;
}

export interface LiveDocument {
  /** The sections' text as stored. */
  sectionTexts(keys: readonly string[]): Promise<Map<string, string>>;
  /** Replaces a section's text on behalf of a clinician whose permission was checked; resolves once stored. */
  replaceSection(key: string, text: string, by: { clinicianId: string; requestId: string }): Promise<void>;
}

/** Treatment plans and their live document, as one clinician may see and change them. */
export class PlanRecords {
  private readonly ofPatients = new PerPatient(
    (ids: string[]) =>
      readTogether(
        this.scope,
        TreatmentPlan,
        this.scope.em
          .createQueryBuilder(TreatmentPlan)
          .select('*')
          .where({ patient: { $in: ids } })
          .orderBy({ createdAt: 'asc', id: 'asc' }),
      ),
    (plan) => plan.patient.id,
  );

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly rooms: LiveDocuments,
    private readonly live: LiveSources,
    private readonly courses: CourseRecords,
  ) {}

  async create(input: NewPlan): Promise<TreatmentPlan> {
    this.access.requireRole('createTreatmentPlans');
    const patientId = parseId(input.patientId, 'patientId');
    const sessions = input.plannedDosingSessions;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > MAX_PLANNED_DOSING_SESSIONS) {
      throw badInput(`plannedDosingSessions must be between 1 and ${MAX_PLANNED_DOSING_SESSIONS}`);
    }
    return this.scope.write(async (em) => {
      const patient = await this.access.requirePatient(em, patientId, { lock: true });
      if (patient.status === PatientStatus.DISCHARGED)
        throw conflict('a discharged patient gets no new treatment plan; refer them again first');
      const course = await this.courses.current(em, patientId);
      const plan = em.create(TreatmentPlan, {
        patient,
        course,
        protocol: input.protocol,
        route: input.route,
        plannedDosingSessions: sessions,
        createdBy: this.scope.clinician.id,
      });
      await em.flush();
      this.scope.audit({ action: 'plan.create', patientId, entity: 'TreatmentPlan', entityId: plan.id });
      return plan;
    });
  }

  /** `null` for an unknown plan; FORBIDDEN when off its patient's care team. */
  async get(id: string): Promise<TreatmentPlan | null> {
    const plan = await this.find(this.scope.em, parseId(id, 'id'));
    if (plan) this.auditRead([plan]);
    return plan;
  }

  /** Oldest first; the patients of a page in one statement. */
  async forPatient(patient: PatientRow): Promise<TreatmentPlan[]> {
    const plans = await this.ofPatients.of(patient.id, null);
    this.auditRead(plans);
    return plans;
  }

  /** The plan a session belongs to, for a session already reached through the care-team check. */
  async ofSession(session: TreatmentSession): Promise<TreatmentPlan> {
    const plan = (await session.plan.load())!;
    this.auditRead([plan]);
    return plan;
  }

  /**
   * Every section with its stored text, in the document's order. Reading the text is reading the
   * plan, audited here too: whichever path reached the plan, its document is never read unaudited.
   */
  async sections(plan: TreatmentPlan): Promise<PlanSectionText[]> {
    const keys = PLAN_SECTIONS.map((s) => s.key);
    const texts = await this.rooms.with(plan.id, plan.patient.id, (room) => room.sectionTexts(keys));
    this.auditRead([plan]);
    return PLAN_SECTIONS.map(({ key }) => section(key, texts.get(key) ?? ''));
  }

  /** Whether the caller's role may change the section. */
  canEdit(section: PlanSectionText): boolean {
    return mayEditSection(this.scope.clinician.role, section.key);
  }

  /** `updatePlanSection`: the same rules as the live document, and live editors see it at once. */
  async updateSection(planId: string, key: string, text: string): Promise<PlanSectionText> {
    this.access.requireRole('editTreatmentPlans');
    const id = parseId(planId, 'planId');
    if (!isPlanSection(key)) throw badInput(sectionRefusal(this.scope.clinician.role, key)!);
    if (text.length > MAX_SECTION_CHARS)
      throw badInput(`text must be at most ${MAX_SECTION_CHARS} characters`);
    const plan = await this.find(this.scope.em, id);
    if (!plan) throw notFound('No treatment plan with that id');
    const refusal = sectionRefusal(this.scope.clinician.role, key);
    if (refusal) throw forbidden(refusal);
    const by = { clinicianId: this.scope.clinician.id, requestId: this.scope.requestId };
    const stored = await this.rooms.with(plan.id, plan.patient.id, async (room) => {
      await room.replaceSection(key, text, by);
      return (await room.sectionTexts([key])).get(key)!;
    });
    return section(key, stored);
  }

  /** Who may open the live document: care-team members of the plan's patient. Audited as a read. */
  async openForEditing(planId: string): Promise<{ patientId: string }> {
    this.access.requireRole('editTreatmentPlans');
    const plan = await this.find(this.scope.em, parseId(planId, 'planId'));
    if (!plan) throw notFound('No treatment plan with that id');
    this.scope.audit({
      action: 'plan.open',
      patientId: plan.patient.id,
      entity: 'TreatmentPlan',
      entityId: plan.id,
    });
    return { patientId: plan.patient.id };
  }

  /**
   * `collabTicket`: a single-use ticket that opens the plan's live document as the caller, so the
   * bearer token need not travel in the WebSocket URL. Same permission as opening the document;
   * issuing is audited, and so is the opening it leads to.
   */
  async issueTicket(planId: string, tokenExpiresAt: Date): Promise<IssuedTicket> {
    this.access.requireRole('editTreatmentPlans');
    const id = parseId(planId, 'planId');
    return this.scope.write(async (em) => {
      const plan = await this.find(em, id);
      if (!plan) throw notFound('No treatment plan with that id');
      this.scope.audit({
        action: 'plan.ticket',
        patientId: plan.patient.id,
        entity: 'TreatmentPlan',
        entityId: plan.id,
      });
      return issueCollabTicket(em, { planId: plan.id, clinicianId: this.scope.clinician.id, tokenExpiresAt });
    });
  }

  /** `planSectionChanged(planId)`: each section as it changes, while the caller is on the care team. */
  async subscribe(planId: string): Promise<LiveSubscription<PlanSectionText>> {
    const plan = await this.find(this.scope.em, parseId(planId, 'planId'));
    if (!plan) throw notFound('No treatment plan with that id');
    const patientId = plan.patient.id;
    return new LiveSubscription(this.scope, this.access, this.live, {
      type: 'planSectionChanged',
      patientId,
      matches: (event) => event.type === 'planSectionChanged' && event.planId === plan.id,
      load: async (_em, event) => {
        if (event.type !== 'planSectionChanged') return null;
        const texts = await this.rooms.with(plan.id, patientId, (room) => room.sectionTexts([event.section]));
        return section(event.section, texts.get(event.section) ?? '');
      },
      audit: () => [
        { action: READ_ACTION.TreatmentPlan, patientId, entity: 'TreatmentPlan', entityId: plan.id },
      ],
    });
  }

  private async find(em: EntityManager, id: string): Promise<TreatmentPlan | null> {
    const plan = await em.findOne(TreatmentPlan, { id });
    if (plan) await this.access.requirePatient(em, plan.patient.id);
    return plan;
  }

  private auditRead(plans: TreatmentPlan[]) {
    this.scope.audit(
      ...plans.map((p) => ({
        action: READ_ACTION.TreatmentPlan,
        patientId: p.patient.id,
        entity: 'TreatmentPlan',
        entityId: p.id,
      })),
    );
  }
}

function section(key: string, text: string): PlanSectionText {
  const spec = PLAN_SECTIONS.find((s) => s.key === key)!;
  return { key, text, editableBy: [...spec.editableBy] as Role[] };
}
