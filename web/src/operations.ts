/**
 * Every GraphQL operation the care board sends, in one place to copy from. A test
 * (test/webOperations.test.ts) has the server validate each, cost limit included, so a schema change
 * that breaks the page fails the suite even where no browser runs.
 */

export const ME = `query Me { me { id name role } }`;

const ROW_FIELDS = `id firstName lastName status
  careTeam { role clinician { id name } }
  latestMeasures { instrument totalScore severity }
  alerts { id level }`;

export const PATIENTS = `query MyPatients($after: String) {
  patients(first: 10, after: $after) { edges { node { ${ROW_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;

export const PATIENT_ROW = `query PatientRow($id: ID!) { patient(id: $id) { ${ROW_FIELDS} } }`;

const ALERT_FIELDS = `id kind level message createdAt patient { id firstName lastName } measure { instrument totalScore }`;

export const OPEN_ALERTS = `query OpenAlerts { alerts(unacknowledgedOnly: true, first: 50) { edges { node { ${ALERT_FIELDS} } } } }`;

export const ALERTS_LIVE = `subscription Alerts { scoreAlert { ${ALERT_FIELDS} } }`;

export const ACKNOWLEDGE = `mutation Acknowledge($id: ID!) { acknowledgeAlert(id: $id) { id acknowledgedAt } }`;

export const PATIENT = `query Patient($id: ID!) {
  patient(id: $id) {
    id firstName lastName dateOfBirth status
    careTeam { role clinician { id name } }
    treatmentPlans { id status protocol route plannedDosingSessions sections { key editableBy canEdit } }
  }
}`;

export const MEASURES = `query Measures($id: ID!, $after: String) {
  patient(id: $id) {
    measures(first: 50, after: $after) {
      edges { node { id instrument totalScore severity administeredAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

export const TIMELINE = `query Timeline($id: ID!, $after: String) {
  patient(id: $id) {
    timeline(first: 10, after: $after) {
      edges { node { at kind item {
        __typename
        ... on Measure { instrument totalScore severity }
        ... on ScoreAlert { level kind message }
        ... on TreatmentSession { sessionKind: kind completedAt }
        ... on Prescription { medication doseMg route voidedAt }
        ... on Consent { textVersion }
        ... on EligibilityAssessment { decision }
        ... on TreatmentCourse { number dischargeReason }
      } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

export const MEASURE_RECORDED = `subscription MeasureRecorded($patientId: ID!) { measureRecorded(patientId: $patientId) { id } }`;

export const RECORD_MEASURE = `mutation RecordMeasure($input: RecordMeasureInput!) {
  recordMeasure(input: $input) { id instrument totalScore severity alerts { id level kind message } }
}`;

export const COLLAB_TICKET = `mutation CollabTicket($planId: ID!) { collabTicket(planId: $planId) { ticket } }`;
