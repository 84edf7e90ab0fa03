/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClinicians, seedDemoData } from '../src/db/seed';
import {
  AlertsDocument,
  CreatePatientDocument,
  PatientMeasuresDocument,
  PatientPlansDocument,
  PatientsDocument,
  RecordMeasureDocument,
  TreatmentPlanDocument,
} from './generated/graphql';
import { startTestServer, type TestServer } from './support/server';

/**
 * The care board in a real Chromium (Debian's `chromium`), against a server started here with the
 * demo data: the prescriber and the therapist, each in a browser context of their own, on one patient.
 * Every wait is on something the page shows, with a ceiling far above what it takes.
 */
const root = path.resolve(__dirname, '..');
const OUTPUT = path.join(root, 'test', 'output', 'care-board');
const WAIT = 20_000;

let server: TestServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
let prescriberApi: GraphQLClient;
let demoTokens: Record<string, string>;
let patientId: string;
let planId: string;
/** Every address the pages opened: none may carry a token or anything about a patient. */
const sockets: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ demoClinicians, webAppDir: path.join(root, 'dist', 'web') });
  await seedDemoData(server.orm);
  const { clinicians } = (await (await fetch(`${server.url}/dev/demo-tokens`)).json()) as {
    clinicians: { role: string; token: string }[];
  };
  demoTokens = Object.fromEntries(clinicians.map((c) => [c.role, c.token]));
  prescriberApi = new GraphQLClient(`${server.url}/graphql`, {
    headers: { authorization: `Bearer ${demoTokens.PRESCRIBER}` },
  });
  const { patients } = await prescriberApi.request(PatientsDocument, {});
  patientId = patients.edges.find((e) => e.node.firstName === 'Avery')!.node.id;
  planId = (await prescriberApi.request(PatientPlansDocument, { id: patientId })).patient!.treatmentPlans[0]
    .id;
  // Two earlier measures, so the chart has more than one point and more than one instrument.
  await prescriberApi.request(RecordMeasureDocument, {
    input: { patientId, instrument: 'PHQ9', responses: [2, 2, 2, 1, 1, 1, 1, 1, 0] },
  });
  await prescriberApi.request(RecordMeasureDocument, {
    input: { patientId, instrument: 'GAD7', responses: [1, 1, 1, 1, 0, 0, 0] },
  });

  // More patients than a page of the list, on the prescriber's care team only.
  for (let i = 1; i <= 10; i++) {
    await prescriberApi.request(CreatePatientDocument, {
      input: { firstName: `Later${i}`, lastName: 'Paged', dateOfBirth: '1980-01-01' },
    });
  }

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright gives each launch an empty profile of its own; nothing reaches for a network that is not there.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(OUTPUT, { recursive: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await server?.close();
});

/** A clinician's own browser context, signed in through the demo picker or a pasted token, with the patient open. */
async function signedIn(role: 'PRESCRIBER' | 'THERAPIST', how: 'picker' | 'pasted'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  (page as Page & { problems?: string[] }).problems = problems;
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`${server.url}/`);
  if (how === 'picker') {
    await page.locator(`button[data-role="${role}"]`).click({ timeout: WAIT });
  } else {
    await page
      .getByLabel('Bearer token (JWT) from your identity provider')
      .fill(`Bearer ${demoTokens[role]}`, { timeout: WAIT });
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  // By keyboard: the patient list is buttons.
  await page.getByRole('button', { name: /Avery Sample/ }).focus({ timeout: WAIT });
  await page.keyboard.press('Enter');
  await page.locator('.plan-connection .connection[data-state="synced"]').waitFor({ timeout: WAIT });
  return page;
}

/** What the section's editor shows, without the other clinicians' cursors drawn into it. */
const sectionText = (page: Page, key: string) =>
  page.locator(`.plan-section[data-section="${key}"] .cm-content`).evaluate((content) => {
    const copy = content.cloneNode(true) as HTMLElement;
    for (const widget of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) widget.remove();
    return [...copy.querySelectorAll('.cm-line')].map((line) => line.textContent).join('\n');
  });
const docText = (page: Page, key: string) =>
  page.evaluate((k) => window.careBoard!.planDoc.getText(k).toString(), key);
const waitForSection = (page: Page, key: string, includes: string) =>
  page.waitForFunction(
    ([k, text]) =>
      document.querySelector(`.plan-section[data-section="${k}"] .cm-content`)?.textContent?.includes(text) ??
      false,
    [key, includes] as const,
    { timeout: WAIT },
  );

declare global {
  interface Window {
    careBoard?: { planDoc: import('yjs').Doc };
    criticalShownAt?: number;
    recordedAt?: number;
  }
}

describe('the care board in Chromium', () => {
  it('two clinicians on one patient: live plan with sections locked to the other, a critical alert across, the chart', async () => {
    const [prescriber, therapist] = await Promise.all([
      signedIn('PRESCRIBER', 'picker'),
      signedIn('THERAPIST', 'pasted'),
    ]);

    // Nothing about the patient in the title or the address.
    for (const page of [prescriber, therapist]) {
      expect(await page.title()).toBe('Care board · KAP Care Graph');
      expect(page.url()).toBe(`${server.url}/`);
      expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['kap-care-board.token']);
    }

    // Presence: each sees the other in the document, and where.
    const present = (page: Page, text: string) =>
      page.locator('.presence li', { hasText: text }).waitFor({ timeout: WAIT });
    await present(prescriber, 'Theo Demo, LMFT (therapist), reading');
    await present(therapist, 'Dr. Dana Demo (prescriber), reading');

    // The prescriber writes the medication section; the therapist sees it as it is typed.
    const dose = 'Ketamine 35 mg IM, week 1 and 2';
    await prescriber.locator('.plan-section[data-section="medication"] .cm-content').click();
    await prescriber.keyboard.type(dose);
    await present(therapist, 'Dr. Dana Demo (prescriber) in Medication');
    await waitForSection(therapist, 'medication', dose);

    // The therapist's medication section is read-only and says who edits it.
    const locked = therapist.locator('.plan-section[data-section="medication"]');
    expect(await locked.locator('.cm-content').getAttribute('aria-readonly')).toBe('true');
    expect(await locked.locator('.who').innerText()).toBe('Read-only for you: the prescriber edits this.');
    await locked.locator('.cm-content').click();
    await therapist.keyboard.type('DOUBLE IT');
    // A later edit the therapist may make, seen by the prescriber: everything before it was handled.
    await therapist.locator('.plan-section[data-section="notes"] .cm-content').click();
    await therapist.keyboard.type('Integration on day 2.');
    await waitForSection(prescriber, 'notes', 'Integration on day 2.');
    expect(await docText(therapist, 'medication')).toBe(dose);
    expect(await sectionText(prescriber, 'medication')).toBe(dose);

    // Forced through the page's own Y.Doc, the edit is refused by the server and reverted.
    await therapist.evaluate(() => window.careBoard!.planDoc.getText('medication').insert(0, 'FORCED '));
    const refusal = therapist.locator('.refusal');
    await refusal.waitFor({ state: 'visible', timeout: WAIT });
    expect(await refusal.innerText()).toMatch(/refused.*"medication"/);
    await therapist.waitForFunction(
      (text) => window.careBoard!.planDoc.getText('medication').toString() === text,
      dose,
      { timeout: WAIT },
    );
    await waitForSection(therapist, 'medication', dose);
    expect(await sectionText(therapist, 'medication')).toBe(dose);
    const stored = (await prescriberApi.request(TreatmentPlanDocument, { id: planId })).treatmentPlan!
      .sections;
    expect(stored.find((s) => s.key === 'medication')!.text).toBe(dose);
    expect(await sectionText(prescriber, 'medication')).toBe(dose);

    // A PHQ-9 with item 9 above 0, recorded by the therapist, is a CRITICAL alert on the prescriber's board.
    await prescriber.evaluate(() => {
      new MutationObserver((_records, observer) => {
        if (document.querySelector('.alerts [data-level="CRITICAL"]')) {
          window.criticalShownAt = Date.now();
          observer.disconnect();
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
    const form = therapist.locator('.measure-form');
    const items = [1, 1, 2, 1, 0, 1, 0, 0, 1];
    for (const [index, value] of items.entries())
      await form.locator(`select[data-item="${index + 1}"]`).selectOption(String(value));
    // Both pages stamp with the one clock of this machine: when the therapist's page shows the
    // measure stored (its mutation answered), when the prescriber's page shows the alert.
    await therapist.evaluate(() => {
      const result = document.querySelector('.measure-form .result')!;
      new MutationObserver((_records, observer) => {
        if (result.textContent?.startsWith('Recorded')) {
          window.recordedAt = Date.now();
          observer.disconnect();
        }
      }).observe(result, { childList: true, characterData: true, subtree: true });
    });
    const clickedAt = await therapist.evaluate(() => Date.now());
    await form.getByRole('button', { name: 'Record' }).click();
    await form.locator('.result', { hasText: 'Recorded PHQ-9: total 7' }).waitFor({ timeout: WAIT });
    const recordedAt = await therapist.evaluate(() => window.recordedAt!);
    await prescriber.locator('.alerts [data-level="CRITICAL"]').waitFor({ timeout: WAIT });
    const shownAt = await prescriber.evaluate(() => window.criticalShownAt!);
    await writeFile(
      path.join(OUTPUT, 'alert-latency.json'),
      JSON.stringify({ shownAfterStoredMs: shownAt - recordedAt, shownAfterClickMs: shownAt - clickedAt }) +
        '\n',
    );
    expect(
      shownAt - recordedAt,
      `the alert appeared ${shownAt - recordedAt} ms after the measure was stored`,
    ).toBeLessThan(1000);
    expect(await prescriber.locator('.alerts [data-level="CRITICAL"]').innerText()).toMatch(
      /suicidal ideation/i,
    );
    expect(await prescriber.locator('.patient-row .badge.critical').innerText()).toMatch(/critical/);
    await prescriber
      .locator('.patient-row[aria-current="true"] .scores', { hasText: 'PHQ-9 7 (mild)' })
      .waitFor({ timeout: WAIT });

    // The chart: one point per measure, in both contexts, each instrument with its bands behind.
    const { patient } = await prescriberApi.request(PatientMeasuresDocument, { id: patientId, first: 50 });
    const ids = patient!.measures.edges.map((e) => e.node.id).sort();
    expect(ids).toHaveLength(3);
    for (const page of [prescriber, therapist]) {
      await page.waitForFunction(
        (n) => document.querySelectorAll('svg.chart circle.point').length === n,
        ids.length,
        { timeout: WAIT },
      );
      const points = await page
        .locator('svg.chart circle.point')
        .evaluateAll((circles) => circles.map((c) => c.getAttribute('data-measure-id')));
      expect(points.sort()).toEqual(ids);
      expect(await page.locator('svg.chart[data-instrument="PHQ9"] circle.point').count()).toBe(2);
      expect(await page.locator('svg.chart[data-instrument="PHQ9"] .band rect').count()).toBe(5);
      expect(await page.locator('svg.chart[data-instrument="GAD7"] .band rect').count()).toBe(4);
    }

    await Promise.all([
      prescriber.screenshot({ path: path.join(OUTPUT, 'prescriber.png'), fullPage: true }),
      therapist.screenshot({ path: path.join(OUTPUT, 'therapist.png'), fullPage: true }),
    ]);

    // The form follows the instrument: every item of each, labelled.
    for (const [instrument, count] of [
      ['PCL5', 20],
      ['GAD7', 7],
      ['PHQ9', 9],
    ] as const) {
      await form.getByLabel('Instrument').selectOption(instrument);
      expect(await form.locator('select[data-item]').count()).toBe(count);
      for (const select of await form.locator('select[data-item]').all())
        expect(await select.evaluate((el) => (el as HTMLSelectElement).labels?.length)).toBe(1);
    }

    // My patients come a page at a time: the prescriber has 13, the therapist the 3 demo ones.
    expect(await prescriber.locator('.patients .patient-row').count()).toBe(10);
    await prescriber.getByRole('button', { name: 'Show more patients' }).click();
    await prescriber.waitForFunction(
      () => document.querySelectorAll('.patients .patient-row').length === 13,
      undefined,
      { timeout: WAIT },
    );
    expect(await prescriber.getByRole('button', { name: 'Show more patients' }).isHidden()).toBe(true);
    expect(await therapist.locator('.patients .patient-row').count()).toBe(3);

    // Acknowledged on the prescriber's board, it leaves the feed and the open alerts.
    await prescriber.locator('.alerts [data-level="CRITICAL"] button.acknowledge').click();
    await prescriber.locator('.alerts [data-level="CRITICAL"]').waitFor({ state: 'detached', timeout: WAIT });
    const open = await prescriberApi.request(AlertsDocument, { patientId, unacknowledgedOnly: true });
    expect(open.alerts.edges.filter((e) => e.node.level === 'CRITICAL')).toEqual([]);

    // Readable on a narrow window: nothing wider than the screen.
    await therapist.setViewportSize({ width: 390, height: 800 });
    expect(await therapist.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await therapist.screenshot({ path: path.join(OUTPUT, 'therapist-narrow.png') });

    for (const page of [prescriber, therapist])
      expect((page as Page & { problems?: string[] }).problems).toEqual([]);
    // The live document was opened with single-use tickets; no address carries a token or a name.
    const collab = sockets.filter((url) => url.includes('/collab/'));
    expect(collab.length).toBeGreaterThanOrEqual(2);
    for (const url of collab) expect(new URL(url).searchParams.get('ticket')).toMatch(/^\S{20,}$/);
    for (const url of [...sockets, ...requests]) {
      expect(url).not.toMatch(/token=|eyJ|Avery|Sample/);
      expect(new URL(url).origin.replace(/^ws/, 'http')).toBe(server.url);
    }
  }, 180_000);
});
