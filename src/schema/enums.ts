import { registerEnumType } from 'type-graphql';
import { PatientStatus } from '../domain/patientStatus';
import { Role } from '../domain/roles';

registerEnumType(Role, { name: 'Role' });
registerEnumType(PatientStatus, { name: 'PatientStatus' });
