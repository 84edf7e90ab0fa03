import type { EntityManager } from '@mikro-orm/postgresql';
import { CareTeamAccess } from '../auth/access';
import type { DosingSettings } from '../config/config';
import type { SignedInClinician } from '../auth/provision';
import { AlertRecords } from './alerts';
import { AuditRecords } from './audit';
import { CourseRecords } from './courses';
import type { AuditWriter } from './auditWriter';
import type { LiveSources } from './liveSubscription';
import { MeasureRecords } from './measures';
import { NodeRecords } from './nodes';
import { NoteRecords } from './notes';
import { PathwayRecords } from './pathway';
import { PatientRecords } from './patients';
import { PlanRecords, type LiveDocuments } from './plans';
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
  courses: CourseRecords;
  measures: MeasureRecords;
  alerts: AlertRecords;
  plans: PlanRecords;
  pathway: PathwayRecords;
  sessions: SessionRecords;
  notes: NoteRecords;
  timeline: TimelineRecords;
  audit: AuditRecords;
  nodes: NodeRecords;
}

/**
 * What every request's records share: the care teams that live items are checked against, the
 * read-audit writer and the open plan documents.
 */
export interface RecordServices {
  live: LiveSources;
  auditWriter: AuditWriter;
  rooms: LiveDocuments;
  dosing: DosingSettings;
}

export function recordsFor(
  em: EntityManager,
  clinician: SignedInClinician,
  requestId: string,
  { live, auditWriter, rooms, dosing }: RecordServices,
): Records {
  const scope = new RequestScope(em, clinician, requestId, auditWriter);
  const access = new CareTeamAccess(clinician);
  const courses = new CourseRecords(scope);
  const pathway = new PathwayRecords(scope, access, courses);
  const sessions = new SessionRecords(scope, access, pathway, courses, dosing);
  const patients = new PatientRecords(scope, access, courses);
  const plans = new PlanRecords(scope, access, rooms, live, courses);
  return {
    scope,
    patients,
    courses,
    measures: new MeasureRecords(scope, access, live, courses),
    alerts: new AlertRecords(scope, access, live),
    plans,
    nodes: new NodeRecords(scope, access, patients, plans),
    pathway,
    sessions,
    notes: new NoteRecords(scope, sessions),
    timeline: new TimelineRecords(scope),
    audit: new AuditRecords(scope, access),
  };
}
