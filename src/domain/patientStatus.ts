/** Where a patient stands on the KAP care pathway (CLINICAL.md, "Care pathway"). */
export enum PatientStatus {
  REFERRED = 'REFERRED',
  SCREENING = 'SCREENING',
  ELIGIBLE = 'ELIGIBLE',
  INELIGIBLE = 'INELIGIBLE',
  ACTIVE = 'ACTIVE',
  MAINTENANCE = 'MAINTENANCE',
  DISCHARGED = 'DISCHARGED',
}
