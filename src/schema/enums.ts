import { registerEnumType } from 'type-graphql';
import { AlertKind, AlertLevel } from '../domain/alerts';
import { Instrument, SeverityBand } from '../domain/instruments';
import {
  AdverseEvent,
  Contraindication,
  EligibilityDecision,
  Medication,
  SessionKind,
} from '../domain/pathway';
import { PatientStatus } from '../domain/patientStatus';
import { PlanStatus, Protocol, Route } from '../domain/plans';
import { Role } from '../domain/roles';

registerEnumType(Role, { name: 'Role' });
registerEnumType(PatientStatus, { name: 'PatientStatus' });
registerEnumType(Instrument, { name: 'Instrument' });
registerEnumType(SeverityBand, { name: 'SeverityBand' });
registerEnumType(AlertKind, { name: 'AlertKind' });
registerEnumType(AlertLevel, { name: 'AlertLevel' });
registerEnumType(PlanStatus, { name: 'PlanStatus' });
registerEnumType(Protocol, { name: 'Protocol' });
registerEnumType(Route, { name: 'Route' });
registerEnumType(Contraindication, { name: 'Contraindication' });
registerEnumType(EligibilityDecision, { name: 'EligibilityDecision' });
registerEnumType(Medication, { name: 'Medication' });
registerEnumType(SessionKind, { name: 'SessionKind' });
registerEnumType(AdverseEvent, { name: 'AdverseEvent' });
