/// <reference lib="dom" />
import { GraphQLClient } from 'graphql-request';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClinicians, seedDemoData } from '../src/db/seed';
import { PatientsDocument, RecordMeasureDocument } from './generated/graphql';
import { startTestServer, type TestServer } from './support/server';
import { eventually, PATIENCE_MS } from './support/subscription';

/** GraphiQL in Debian's Chromium, with every request off this server refused: it must work offline. */
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ demoClinicians });
  await seedDemoData(server.orm);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('GraphiQL at /graphql (development)', () => {
  it('is a page of this server’s own files, and GraphQL GETs are still GraphQL', async () => {
    const page = await fetch(`${server.url}/graphql`, {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(references.length).toBeGreaterThan(4);
    for (const reference of references) {
      expect(reference).toMatch(/^\/graphql\/ide\//);
      expect((await fetch(`${server.url}${reference}`)).status, reference).toBe(200);
    }
    // A GraphQL client's GET (it carries a query) is answered by GraphQL, whatever it accepts.
    const query = await fetch(`${server.url}/graphql?query=%7B__typename%7D`, {
      headers: { accept: 'text/html', 'apollo-require-preflight': 'true' },
    });
    expect(query.headers.get('content-type')).not.toContain('text/html');
  });

  it('runs a query with the demo prescriber’s token pre-filled, and a subscription over graphql-ws, offline', async () => {
    const context = await browser.newContext();
    const elsewhere: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith(server.url)) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    try {
      await page.goto(`${server.url}/graphql`);
      await page.locator('.graphiql-execute-button').click({ timeout: PATIENCE_MS });
      await page.locator('.graphiql-response').getByText('"PRESCRIBER"').waitFor({ timeout: PATIENCE_MS });
      expect(await page.locator('.graphiql-response').innerText()).toContain('Demo');

      // A subscription: its events arrive over graphql-ws.
      await page.locator('.graphiql-query-editor .CodeMirror').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText('subscription { scoreAlert { kind level } }');
      await page.locator('.graphiql-execute-button').click();
      await eventually(() => server.app.liveSubscriptions() > 0);
      const { clinicians } = (await (await fetch(`${server.url}/dev/demo-tokens`)).json()) as {
        clinicians: { role: string; token: string }[];
      };
      const prescriber = new GraphQLClient(`${server.url}/graphql`, {
        headers: { authorization: `Bearer ${clinicians.find((c) => c.role === 'PRESCRIBER')!.token}` },
      });
      const patientId = (await prescriber.request(PatientsDocument, {})).patients.edges[0].node.id;
      await prescriber.request(RecordMeasureDocument, {
        input: { patientId, instrument: 'PHQ9', responses: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
      });
      await page
        .locator('.graphiql-response')
        .getByText('SUICIDAL_IDEATION')
        .waitFor({ timeout: PATIENCE_MS });
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('in production', () => {
  it('serves no IDE', async () => {
    const production = await startTestServer({ production: true, databaseUrl: server.databaseUrl });
    try {
      const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
      expect((await fetch(`${production.url}/graphql/ide/graphiql.js`)).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
