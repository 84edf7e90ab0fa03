/**
 * The Content-Security-Policy of the pages this server serves (the care board, GraphiQL): they load
 * only this server's own files and talk only to this server (GraphQL over HTTP and WebSocket, the
 * live document). Their editors (CodeMirror, GraphiQL's) write styles at run time, hence inline
 * styles; GraphiQL renders the schema's descriptions with data: images and fonts.
 */
export const SAME_ORIGIN_PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
