import type { EntityManager } from '@mikro-orm/postgresql';
import type { CareTeamAccess } from '../auth/access';
import type { CareTeamDirectory } from '../auth/careTeams';
import type { CareEvent } from '../events/events';
import type { AuditEntry, RequestScope } from './scope';

/** Who may receive live events: the care teams as the instance knows them. */
export interface LiveSources {
  careTeams: CareTeamDirectory;
}

/** Whether a subscription's caller receives an item now, is skipped for it, or is done. */
export type LiveAdmission = 'receive' | 'skip' | 'end';

/**
 * One subscription's events (for one patient, or all of the caller's) as one clinician may receive
 * them: which events, how an event's item is read (once for every subscription it reaches), whether
 * the caller is on the patient's care team when it is offered, and what receiving it is audited as,
 * per item. Leaving the team ends a one-patient subscription and silences that patient in an
 * all-patients one. Delivering the items is the transport's (src/graphql/liveFeeds.ts).
 */
export class LiveSubscription<T extends object> {
  readonly type: CareEvent['type'];
  readonly patientId?: string;
  /** Whose subscription it is. */
  readonly clinicianId: string;

  constructor(
    private readonly scope: RequestScope,
    private readonly access: CareTeamAccess,
    private readonly sources: LiveSources,
    private readonly options: {
      type: CareEvent['type'];
      patientId?: string;
      /** Narrows the events further (to one plan, say). */
      matches?: (event: CareEvent) => boolean;
      load: (em: EntityManager, event: CareEvent) => Promise<T | null>;
      /** What receiving the item is audited as, for this subscription's caller. */
      audit: (item: T) => AuditEntry[];
    },
  ) {
    this.type = options.type;
    this.patientId = options.patientId;
    this.clinicianId = scope.clinician.id;
  }

  matches(event: CareEvent): boolean {
    return (
      event.type === this.type &&
      (this.patientId === undefined || event.patientId === this.patientId) &&
      (this.options.matches?.(event) ?? true)
    );
  }

  /** Reads the event's item; the same for every subscription the event is for. */
  load(event: CareEvent): Promise<T | null> {
    return this.options.load(this.scope.em.fork(), event);
  }

  /**
   * Whether the caller receives an item of a patient whose team is, as of now, `team`. Returns a
   * promise only when it must consult the database first.
   */
  admits(team: ReadonlySet<string>): LiveAdmission | Promise<LiveAdmission> {
    if (this.access.isIn(team)) return 'receive';
    if (this.patientId === undefined) return 'skip';
    // The team in memory may predate the caller's joining (their subscription was checked against
    // the database): only the database ends a subscription.
    return this.sources.careTeams
      .refresh(this.patientId)
      .then((current) => (this.access.isIn(current) ? 'receive' : 'end'));
  }

  /** What the caller's receiving `item` is audited as: stored before it leaves, for this item only. */
  audit(item: T): AuditEntry[] {
    return this.options.audit(item);
  }
}
