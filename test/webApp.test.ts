import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebApp } from '../src/http/webApp';
import { startTestServer, type TestServer } from './support/server';

const built = path.resolve(__dirname, '..', 'dist', 'web');
let withApp: TestServer;
let without: TestServer;

beforeAll(async () => {
  [withApp, without] = await Promise.all([startTestServer({ webAppDir: built }), startTestServer()]);
});
afterAll(() => Promise.all([withApp?.close(), without?.close()]));

describe('the care board, served at /', () => {
  it('serves the page with a policy that allows only this server, and its hashed assets for good', async () => {
    const page = await fetch(`${withApp.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);

    const assets = await readdir(path.join(built, 'assets'));
    const script = assets.find((a) => a.endsWith('.js'))!;
    expect(html).toContain(`/assets/${script}`);
    const asset = await fetch(`${withApp.url}/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // Nothing from a CDN: the bundle names no other host to load from.
    expect(await asset.text()).not.toMatch(/\b(?:unpkg|jsdelivr|cdnjs|googleapis)\b/);

    const head = await fetch(`${withApp.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers nothing but its own files', async () => {
    for (const url of [
      '/index.html',
      '/assets/none.js',
      '/src/main.ts',
      '/%2e%2e/package.json',
      '/assets/../../package.json',
      '/.sources',
    ]) {
      expect((await fetch(`${withApp.url}${url}`)).status, url).toBe(404);
    }
    expect((await fetch(`${withApp.url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('is absent when WEB_APP is off', async () => {
    expect((await fetch(`${without.url}/`)).status).toBe(404);
  });

  it('refuses to start unbuilt, saying what to do', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'kap-web-'));
    try {
      await expect(loadWebApp(empty)).rejects.toThrow(
        /WEB_APP is on but the care board is not built .*run npm run build, or set WEB_APP=false/,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
