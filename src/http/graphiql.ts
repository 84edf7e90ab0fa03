import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SAME_ORIGIN_PAGE_POLICY } from './contentSecurity';

/**
 * GraphiQL at `GET /graphql` for a browser (development only), from the project's own dev
 * dependencies: GraphiQL 3's browser bundle on React 18's, and graphql-ws's, read into memory at
 * start and served under `/graphql/ide/`, so it works with no internet (Apollo's Sandbox loads from
 * a CDN). Queries and mutations go over HTTP, subscriptions over graphql-ws, both with the headers of
 * GraphiQL's header editor. Where demo data was seeded the editor starts with the demo prescriber's
 * token, which the page asks `/dev/demo-tokens` for, as the care board does.
 */
const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.js': {
    pkg: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
  'graphql-ws.js': {
    pkg: 'graphql-ws',
    file: 'umd/graphql-ws.min.js',
    type: 'text/javascript; charset=utf-8',
  },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>KAP Care Graph · GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/graphql/ide/graphiql.css">
<style>body { margin: 0; height: 100vh; overflow: hidden; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphql/ide/react.js"></script>
<script src="/graphql/ide/react-dom.js"></script>
<script src="/graphql/ide/graphiql.js"></script>
<script src="/graphql/ide/graphql-ws.js"></script>
<script src="/graphql/ide/start.js"></script>
</body>
</html>
`;

/** Runs in the page. Plain ES2020: it is served as it is. */
const START = String.raw`'use strict';
(async () => {
  const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  // One graphql-ws client per Authorization header typed into the editor.
  const sockets = new Map();
  const socketFor = (authorization) => {
    if (!sockets.has(authorization)) sockets.set(authorization, graphqlWs.createClient({ url: wsUrl, connectionParams: authorization ? { authorization } : {}, lazy: true }));
    return sockets.get(authorization);
  };
  const headerNamed = (headers, name) => Object.entries(headers || {}).find(([key]) => key.toLowerCase() === name)?.[1];
  // Whether the operation to run is a subscription, from its text (comments aside).
  const isSubscription = (query, name) => {
    const text = query.replace(/#[^\n]*/g, '');
    return name ? new RegExp('\\bsubscription\\s+' + name + '\\b').test(text) : /^\s*subscription\b/.test(text);
  };
  const fetcher = (params, options) => {
    const headers = (options && options.headers) || {};
    if (isSubscription(params.query, params.operationName)) return socketFor(headerNamed(headers, 'authorization')).iterate(params);
    return fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify(params),
    }).then((response) => response.json());
  };
  let headers = '{\n  "authorization": "Bearer <paste a token printed by npm start>"\n}';
  try {
    const response = await fetch('/dev/demo-tokens', { cache: 'no-store' });
    if (response.ok) {
      const prescriber = (await response.json()).clinicians.find((c) => c.role === 'PRESCRIBER');
      if (prescriber) headers = JSON.stringify({ authorization: 'Bearer ' + prescriber.token }, null, 2);
    }
  } catch {}
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      headers,
      defaultEditorToolsVisibility: 'headers',
      defaultQuery: '# Every request needs the Authorization header (Headers, below).\n{\n  me { name role }\n  patients(first: 5) { edges { node { id firstName lastName status } } }\n}\n',
    }),
  );
})();
`;

export type GraphiQLHandler = (req: IncomingMessage, res: ServerResponse, urlPath: string) => boolean;

/**
 * The IDE's page and files, or `undefined` where its dev dependencies are not installed (an install
 * with `--omit=dev`): then `/graphql` serves only GraphQL.
 */
export async function loadGraphiQL(): Promise<GraphiQLHandler | undefined> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const resolve = createRequire(__filename).resolve;
  try {
    for (const [name, { pkg, file, type }] of Object.entries(ASSETS)) {
      files.set(`/graphql/ide/${name}`, {
        body: await readFile(path.join(packageDir(resolve(pkg), pkg), file)),
        type,
      });
    }
  } catch {
    return undefined;
  }
  files.set('/graphql/ide/start.js', { body: Buffer.from(START), type: 'text/javascript; charset=utf-8' });
  const page = Buffer.from(PAGE);

  return (req, res, urlPath) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (urlPath === '/graphql') {
      // A browser navigating here, not a GraphQL GET (which carries a query).
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.search !== '' || !(req.headers.accept ?? '').includes('text/html')) return false;
      send(res, { body: page, type: 'text/html; charset=utf-8' }, 'no-cache');
      res.setHeader('content-security-policy', SAME_ORIGIN_PAGE_POLICY);
      res.end(req.method === 'HEAD' ? undefined : page);
      return true;
    }
    const file = files.get(urlPath);
    if (!file) return false;
    send(res, file, 'public, max-age=3600');
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}

function send(res: ServerResponse, file: { body: Buffer; type: string }, cache: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', file.type);
  res.setHeader('content-length', file.body.length);
  res.setHeader('cache-control', cache);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
}

/** The folder of an installed package, from its resolved entry point (packages export no file paths). */
function packageDir(entry: string, pkg: string): string {
  const marker = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`${pkg} is not under node_modules`);
  return entry.slice(0, at + marker.length);
}
