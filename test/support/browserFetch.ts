/**
 * `fetch` as a page on `origin` gets it from a browser (the Fetch standard's CORS protocol, with
 * credentials omitted): a request that is not CORS-safelisted is preceded by a preflight that must
 * admit its method and headers, and a response reaches the page only when it admits the origin,
 * with only the safelisted and exposed response headers visible. Node's own fetch does none of
 * this, so clients run on it as if they ran in a page on another origin.
 */
export interface BrowserFetch {
  fetch: typeof fetch;
  /** Preflights sent, and the requests (method and URL) that reached the page. */
  preflights: number;
  requests: { method: string; url: string }[];
}

const SAFELISTED_METHODS = ['GET', 'HEAD', 'POST'];
const SAFELISTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const SAFELISTED_RESPONSE_HEADERS = [
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
];

export function browserFetch(origin: string): BrowserFetch {
  const state: BrowserFetch = {
    preflights: 0,
    requests: [],
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const method = request.method.toUpperCase();
      const unsafeHeaders = [...request.headers.keys()]
        .map((name) => name.toLowerCase())
        .filter((name) => !safelistedRequestHeader(name, request.headers.get(name) ?? ''))
        .sort();
      if (!SAFELISTED_METHODS.includes(method) || unsafeHeaders.length > 0) {
        state.preflights++;
        const preflight = await fetch(request.url, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': method,
            ...(unsafeHeaders.length ? { 'access-control-request-headers': unsafeHeaders.join(',') } : {}),
          },
        });
        if (!preflight.ok || !admits(preflight, origin))
          throw corsFailure(`preflight answered ${preflight.status} without admitting ${origin}`);
        const methods = list(preflight.headers.get('access-control-allow-methods'));
        if (
          !SAFELISTED_METHODS.includes(method) &&
          !methods.includes(method.toLowerCase()) &&
          !methods.includes('*')
        )
          throw corsFailure(`method ${method} not allowed`);
        const allowed = list(preflight.headers.get('access-control-allow-headers'));
        const refused = unsafeHeaders.filter(
          (name) => !allowed.includes(name) && !(allowed.includes('*') && name !== 'authorization'),
        );
        if (refused.length > 0) throw corsFailure(`headers not allowed: ${refused.join(', ')}`);
      }
      const headers = new Headers(request.headers);
      headers.set('origin', origin);
      const response = await fetch(request.url, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : await request.text(),
        signal: init?.signal ?? undefined,
      });
      if (!admits(response, origin))
        throw corsFailure(`response without Access-Control-Allow-Origin for ${origin}`);
      state.requests.push({ method, url: request.url });
      const exposed = [
        ...SAFELISTED_RESPONSE_HEADERS,
        ...list(response.headers.get('access-control-expose-headers')),
      ];
      const visible = new Headers();
      for (const [name, value] of response.headers)
        if (exposed.includes(name.toLowerCase())) visible.set(name, value);
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: visible,
      });
    },
  };
  return state;
}

function safelistedRequestHeader(name: string, value: string): boolean {
  if (['accept', 'accept-language', 'content-language'].includes(name)) return true;
  if (name === 'content-type')
    return SAFELISTED_CONTENT_TYPES.includes(value.split(';')[0].trim().toLowerCase());
  return false;
}

/** Credentials are omitted, so `*` admits too; a page with credentials would need its exact origin. */
function admits(response: Response, origin: string): boolean {
  const allowed = response.headers.get('access-control-allow-origin');
  return allowed === '*' || allowed === origin;
}

function list(header: string | null): string[] {
  return (header ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function corsFailure(why: string): TypeError {
  // What a page sees; the browser's console would say why.
  return new TypeError(`Failed to fetch (CORS: ${why})`);
}
