import type { EntityManager } from '@mikro-orm/postgresql';
import { CareTeamAccess } from '../auth/access';
import type { Clinician } from '../entities';
import type { Rooms } from '../collab/rooms';
import { AlertRecords } from './alerts';
import { AuditRecords } from './audit';
import type { AuditWriter } from './auditWriter';
import type { LiveSources } from './live';
import { MeasureRecords } from './measures';
import { NoteRecords } from './notes';
import { PathwayRecords } from './pathway';
import { PatientRecords } from './patients';
import { PlanRecords } from './plans';
import { RequestScope } from './scope';
import { SessionRecords } from './sessions';
import { TimelineRecords } from './timeline';

/**
 * Everything one authenticated request may read or change, already scoped to its clinician.
 * Resolvers reach data only through this object.
 */
export interface Records {
  scope: RequestScope;
  patients: PatientRecords;
  measures: MeasureRecords;
  alerts: AlertRecords;
  plans: PlanRecords;
  pathway: PathwayRecords;
  sessions: SessionRecords;
  notes: NoteRecords;
  timeline: TimelineRecords;
  audit: AuditRecords;
}

/** What every request's records share: the instance's live events, read-audit writer and open plan documents. */
export interface RecordServices {
  live: LiveSources;
  auditWriter: AuditWriter;
  rooms: Rooms;
}

export function recordsFor(em: EntityManager, clinician: Clinician, requestId: string, { live, auditWriter, rooms }: RecordServices): Records {
  const scope = new RequestScope(em, clinician, requestId, auditWriter);
  const access = new CareTeamAccess(clinician);
  const pathway = new PathwayRecords(scope, access);
  const sessions = new SessionRecords(scope, access, pathway);
  return {
    scope,
    patients: new PatientRecords(scope, access),
    measures: new MeasureRecords(scope, access, live),
    alerts: new AlertRecords(scope, access, live),
    plans: new PlanRecords(scope, access, rooms, live),
    pathway,
    sessions,
    notes: new NoteRecords(scope, sessions),
    timeline: new TimelineRecords(scope),
    audit: new AuditRecords(scope, access),
  };
}
