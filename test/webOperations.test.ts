import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../src/db/seed';
import * as operations from '../web/src/operations';
import { PatientPlansDocument, PatientsDocument, RecordMeasureDocument } from './generated/graphql';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { Role } from '../src/domain/roles';

/**
 * Every operation the care board sends is valid against the emitted schema and within the server's
 * operation limits, checked without a browser: a schema or limit change that would break the page
 * fails here, naming the operation.
 */
let server: TestServer;
let prescriber: TestClinician;
let variables: Record<string, unknown>;
let alertId: string;

beforeAll(async () => {
  server = await startTestServer();
  await seedDemoData(server.orm);
  prescriber = await server.clinician(Role.PRESCRIBER, {
    sub: 'demo-prescriber',
    email: 'prescriber@demo.example',
    name: 'Dr. Dana Demo',
  });
  const { patients } = await prescriber.http.request(PatientsDocument, {});
  const patientId = patients.edges.find((e) => e.node.firstName === 'Avery')!.node.id;
  const planId = (await prescriber.http.request(PatientPlansDocument, { id: patientId })).patient!
    .treatmentPlans[0].id;
  const { recordMeasure } = await prescriber.http.request(RecordMeasureDocument, {
    input: { patientId, instrument: 'PHQ9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
  });
  alertId = recordMeasure.alerts[0].id;
  variables = {
    id: patientId,
    patientId,
    planId,
    after: null,
    input: { patientId, instrument: 'PHQ9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 0] },
  };
});
afterAll(() => server?.close());

const entries = Object.entries(operations);

describe('the care board’s GraphQL operations', () => {
  it('are all here', () => {
    expect(entries.map(([name]) => name).sort()).toEqual(
      [
        'ACKNOWLEDGE',
        'ALERTS_LIVE',
        'COLLAB_TICKET',
        'ME',
        'MEASURES',
        'MEASURE_RECORDED',
        'OPEN_ALERTS',
        'PATIENT',
        'PATIENTS',
        'PATIENT_ROW',
        'RECORD_MEASURE',
        'TIMELINE',
      ].sort(),
    );
  });

  it.each(entries)('%s is valid against src/schema/schema.graphql', async (_name, operation) => {
    const schema = buildSchema(
      await readFile(path.resolve(__dirname, '..', 'src', 'schema', 'schema.graphql'), 'utf8'),
    );
    expect(validate(schema, parse(operation)).map((e) => e.message)).toEqual([]);
  });

  it.each(entries.filter(([, operation]) => !operation.startsWith('subscription')))(
    '%s is accepted by the server, limits included',
    async (name, operation) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${prescriber.token}` },
        body: JSON.stringify({
          query: operation,
          variables: name === 'ACKNOWLEDGE' ? { id: alertId } : variables,
        }),
      });
      const body = (await response.json()) as {
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      expect(body.errors ?? []).toEqual([]);
    },
  );
});
