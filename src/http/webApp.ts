import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { SAME_ORIGIN_PAGE_POLICY } from './contentSecurity';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface StaticFile {
  body: Buffer;
  type: string;
  /** Vite names assets by content hash: they never change under one name. */
  immutable: boolean;
}

export type WebAppHandler = (req: IncomingMessage, res: ServerResponse, urlPath: string) => boolean;

/**
 * The care board, built by Vite into `dir`, read into memory once at start (a few hundred KiB): a
 * request can only ever name one of those files, so no path reaches the disk. `/` is the page; there
 * are no client-side routes, so no patient ever appears in a URL.
 */
export async function loadWebApp(dir: string): Promise<WebAppHandler> {
  const files = new Map<string, StaticFile>();
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
  } catch {
    entries = [];
  }
  for (const file of entries) {
    const urlPath = '/' + path.relative(dir, file).split(path.sep).join('/');
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    files.set(urlPath, { body: await readFile(file), type, immutable: urlPath.startsWith('/assets/') });
  }
  const page = files.get('/index.html');
  if (!page) {
    throw new Error(
      `WEB_APP is on but the care board is not built (no ${path.join(dir, 'index.html')}): run npm run build, or set WEB_APP=false`,
    );
  }
  files.delete('/index.html');
  files.set('/', { ...page, immutable: false });

  return (req, res, urlPath) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const file = files.get(urlPath);
    if (!file) return false;
    res.statusCode = 200;
    res.setHeader('content-type', file.type);
    res.setHeader('content-length', file.body.length);
    res.setHeader('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    if (file.type.startsWith('text/html')) {
      res.setHeader('content-security-policy', SAME_ORIGIN_PAGE_POLICY);
      res.setHeader('x-frame-options', 'DENY');
    }
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
