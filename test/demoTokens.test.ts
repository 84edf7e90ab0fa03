import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClinicians } from '../src/db/seed';
import { startTestServer, type TestServer } from './support/server';

let demo: TestServer;
let plain: TestServer;

beforeAll(async () => {
  [demo, plain] = await Promise.all([startTestServer({ demoClinicians }), startTestServer()]);
});
afterAll(() => Promise.all([demo?.close(), plain?.close()]));

const me = (url: string, token: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { name role email } }' }),
  }).then((r) => r.json() as Promise<{ data?: { me: { name: string; role: string; email: string } } }>);

describe('GET /dev/demo-tokens', () => {
  it('gives a working token for each demo clinician, never cached', async () => {
    const response = await fetch(`${demo.url}/dev/demo-tokens`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { clinicians } = (await response.json()) as {
      clinicians: { name: string; role: string; email: string; token: string; expiresAt: string }[];
    };
    expect(clinicians.map((c) => c.role)).toEqual(demoClinicians.map((c) => c.role));
    for (const clinician of clinicians) {
      expect(Date.parse(clinician.expiresAt)).toBeGreaterThan(Date.now());
      const { data } = await me(demo.url, clinician.token);
      expect(data?.me).toEqual({ name: clinician.name, role: clinician.role, email: clinician.email });
    }
  });

  it("refuses a request another site's page makes", async () => {
    for (const site of ['cross-site', 'same-site']) {
      const response = await fetch(`${demo.url}/dev/demo-tokens`, { headers: { 'sec-fetch-site': site } });
      expect(response.status).toBe(403);
      expect(await response.text()).not.toMatch(/eyJ/);
    }
    expect(
      (await fetch(`${demo.url}/dev/demo-tokens`, { headers: { 'sec-fetch-site': 'same-origin' } })).status,
    ).toBe(200);
  });

  it('does not exist where no demo data was seeded', async () => {
    expect((await fetch(`${plain.url}/dev/demo-tokens`)).status).toBe(404);
    expect((await fetch(`${demo.url}/dev/demo-tokens`, { method: 'POST' })).status).toBe(404);
  });
});
