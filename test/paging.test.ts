import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/roles';
import { CreatePatientDocument, RecordMeasureDocument } from './generated/graphql';
import { expectCode } from './support/expect';
import { startTestServer, type TestClinician, type TestServer } from './support/server';
import { DAY, fromNow, HOUR } from './support/time';

/**
 * Relay's backward paging (`last`/`before`) on the lists a screen pages both ways: a patient's
 * measures and timeline, and the audit log. Walking a list backwards from its end must meet every
 * row that walking it forwards meets, in the same order, with pageInfo telling where more lie.
 */

interface Page {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}
type Args = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };

let server: TestServer;
let prescriber: TestClinician;
let admin: TestClinician;
let patientId: string;
/** The audit log is walked for a patient of its own, whose trail the other walks' reads do not grow. */
let auditedPatientId: string;
const MEASURES = 9;

beforeAll(async () => {
  server = await startTestServer();
  prescriber = await server.clinician(Role.PRESCRIBER);
  admin = await server.clinician(Role.ADMIN);
  const ids: string[] = [];
  for (const lastName of ['Walker', 'Audited']) {
    const id = (
      await prescriber.http.request(CreatePatientDocument, {
        input: { firstName: 'Page', lastName, dateOfBirth: '1979-03-03' },
      })
    ).createPatient.id;
    ids.push(id);
    // Two measures share one instant, so the id breaks the tie in both directions.
    const base = fromNow(-30 * DAY).getTime();
    for (let i = 0; i < MEASURES; i++) {
      const administeredAt = new Date(base + Math.min(i, MEASURES - 2) * HOUR).toISOString();
      await prescriber.http.request(RecordMeasureDocument, {
        input: { patientId: id, instrument: 'GAD7', responses: [i % 4, 0, 0, 0, 0, 0, 0], administeredAt },
      });
    }
  }
  [patientId, auditedPatientId] = ids;
});
afterAll(() => server.close());

const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const LISTS = {
  measures: {
    who: () => prescriber,
    query: `query ($patientId: ID!, $first: Int, $after: String, $last: Int, $before: String) { patient(id: $patientId) {
      measures(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id } } ${PAGE_INFO} } } }`,
    page: (data: { patient: { measures: Page } }) => data.patient.measures,
  },
  timeline: {
    who: () => prescriber,
    query: `query ($patientId: ID!, $first: Int, $after: String, $last: Int, $before: String) { patient(id: $patientId) {
      timeline(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { kind item { ... on Node { id } } } } ${PAGE_INFO} } } }`,
    page: (data: {
      patient: {
        timeline: { edges: { cursor: string; node: { item: { id: string } } }[]; pageInfo: Page['pageInfo'] };
      };
    }): Page => ({
      edges: data.patient.timeline.edges.map((e) => ({ cursor: e.cursor, node: { id: e.node.item.id } })),
      pageInfo: data.patient.timeline.pageInfo,
    }),
  },
  auditLog: {
    who: () => admin,
    query: `query ($patientId: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      auditLog(patientId: $patientId, first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id } } ${PAGE_INFO} } }`,
    page: (data: { auditLog: Page }) => data.auditLog,
  },
} as const;
type ListName = keyof typeof LISTS;

async function page(list: ListName, args: Args): Promise<Page> {
  const { who, query, page: pick } = LISTS[list];
  return pick(
    (await who().http.request(query, {
      patientId: list === 'auditLog' ? auditedPatientId : patientId,
      ...args,
    })) as never,
  );
}

/** Every id forwards, page by page, checking pageInfo on the way. */
async function walkForwards(list: ListName, size: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const p = await page(list, { first: size, after });
    expect(p.edges.length).toBeLessThanOrEqual(size);
    expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
    ids.push(...p.edges.map((e) => e.node.id));
    if (!p.pageInfo.hasNextPage) return ids;
    after = p.pageInfo.endCursor;
  }
}

/** Every id backwards from the end, page by page: each page is still in the list's order. */
async function walkBackwards(list: ListName, size: number): Promise<string[]> {
  const ids: string[] = [];
  let before: string | null = null;
  for (;;) {
    const p = await page(list, { first: null, last: size, before });
    expect(p.edges.length).toBeLessThanOrEqual(size);
    expect(p.pageInfo.hasNextPage).toBe(before !== null);
    expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
    expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
    ids.unshift(...p.edges.map((e) => e.node.id));
    if (!p.pageInfo.hasPreviousPage) return ids;
    before = p.pageInfo.startCursor;
  }
}

describe.each(Object.keys(LISTS) as ListName[])('%s pages backwards with last/before', (list) => {
  it('meets every row a forward walk meets, in the same order, for any page sizes', async () => {
    const all = await walkForwards(list, 100);
    expect(all.length).toBeGreaterThanOrEqual(MEASURES);
    expect(new Set(all).size).toBe(all.length);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        async (forwards, backwards) => {
          expect(await walkForwards(list, forwards)).toEqual(all);
          expect(await walkBackwards(list, backwards)).toEqual(all);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('last alone is the end of the list; both cursors bound one range', async () => {
    const all = await walkForwards(list, 100);
    const tail = await page(list, { last: 2 });
    expect(tail.edges.map((e) => e.node.id)).toEqual(all.slice(-2));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });

    const cursors = (await page(list, { first: 100 })).edges.map((e) => e.cursor);
    const between = { after: cursors[1], before: cursors[6] };
    expect((await page(list, { first: 10, ...between })).edges.map((e) => e.node.id)).toEqual(
      all.slice(2, 6),
    );
    expect((await page(list, { last: 10, ...between })).edges.map((e) => e.node.id)).toEqual(all.slice(2, 6));
    const nearBefore = await page(list, { last: 2, ...between });
    expect(nearBefore.edges.map((e) => e.node.id)).toEqual(all.slice(4, 6));
    expect(nearBefore.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('refuses first with last, a page size out of range and a cursor that is not one', async () => {
    expect(await expectCode(page(list, { first: 2, last: 2 }), 'BAD_USER_INPUT')).toMatch(/first and last/);
    expect(await expectCode(page(list, { last: 0 }), 'BAD_USER_INPUT')).toMatch(/^last must be from 1 to/);
    expect(await expectCode(page(list, { last: 2, before: 'bm90LWEtY3Vyc29y' }), 'BAD_USER_INPUT')).toBe(
      'before is not a valid cursor',
    );
    const someoneElses = (await page(list, { first: 1 })).edges[0].cursor;
    const garbled = Buffer.from(
      `c1:${Buffer.from(someoneElses, 'base64url').toString('utf8').slice(3)}x`,
    ).toString('base64url');
    expect(await expectCode(page(list, { last: 2, before: garbled }), 'BAD_USER_INPUT')).toBe(
      'before is not a valid cursor',
    );
  });
});

describe('audit of a backward page', () => {
  it('writes one read row per measure returned, and only those', async () => {
    const before = (await page('measures', { first: 3 })).pageInfo.endCursor;
    const mark = (
      await server.sql<{ id: string }>('select coalesce(max(id), 0)::text as id from audit_event')
    )[0].id;
    const p = await page('measures', { last: 2, before });
    const rows = await server.sql<{ entity_id: string }>(
      `select entity_id from audit_event where id > $1 and action = 'measure.read' and clinician_id = (select id from clinician where sub = $2) order by id`,
      [mark, prescriber.sub],
    );
    expect(rows.map((r) => r.entity_id).sort()).toEqual(p.edges.map((e) => e.node.id).sort());
  });
});
