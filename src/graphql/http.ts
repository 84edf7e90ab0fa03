import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { getOperationAST, GraphQLError, parse } from 'graphql';
import { AppError } from '../errors';
import { RETRY_AFTER_SECONDS, type Admission } from './admission';
import type { GraphQLContext } from './context';
import type { ContextFactory } from './contextFactory';
import { OperationLimitError, operationLimits } from './limits';

export interface GraphQLHttpResult {
  status: number;
  operationName: string | undefined;
}

/** Adapts a Node request to Apollo's transport-neutral HTTP interface. */
export async function handleGraphQLHttp(
  apollo: ApolloServer<GraphQLContext>,
  contextFor: ContextFactory,
  admission: Admission,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<GraphQLHttpResult> {
  // Every answer may hold patient data (an error too): no browser cache or proxy keeps one. Apollo's
  // cache-control plugin would say so only for the answers it executes, and it is off (apollo.ts).
  res.setHeader('cache-control', 'no-store');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }

  let body: unknown;
  if (req.method === 'POST') {
    const raw = await readBody(req);
    if (raw === undefined) {
      const { message, extensions } = new OperationLimitError(
        'maxBodyBytes',
        `The request body exceeds ${operationLimits.maxBodyBytes} bytes`,
      );
      return sendError(res, 413, message, extensions);
    }
    if ((headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        return sendError(res, 400, 'The request body is not valid JSON', { code: 'BAD_REQUEST' });
      }
    } else {
      body = raw;
    }
  }
  const operationName =
    body && typeof body === 'object' && 'operationName' in body && typeof body.operationName === 'string'
      ? body.operationName
      : (url.searchParams.get('operationName') ?? undefined);

  let response;
  try {
    // A write while delivery is behind is refused before anything is done for it, its authentication
    // included: refusing must cost less than the write. What the text does not tell (a persisted
    // query) is judged once Apollo has resolved the operation (src/graphql/apollo.ts).
    if (admission.deliveryBehind && isMutation(body, operationName)) admission.refuseWriteWhileBehind();
    response = await admission.run(() =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => {
          try {
            return await contextFor(req.headers.authorization, requestId);
          } catch (error) {
            if (error instanceof AppError) {
              throw new GraphQLError(error.message, {
                extensions: { code: error.code, http: { status: 401 } },
              });
            }
            throw error;
          }
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'SERVICE_UNAVAILABLE')) throw error;
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    const { status } = sendError(res, 503, error.message, { code: error.code });
    return { status, operationName };
  }

  const status = response.status ?? 200;
  res.statusCode = status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
  } else {
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
  return { status, operationName };
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extensions: Record<string, unknown>,
): GraphQLHttpResult {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ errors: [{ message, extensions }] }));
  return { status, operationName: undefined };
}

/** Whether a request body's operation (the one `operationName` names) is a mutation, as far as its text says. */
function isMutation(body: unknown, operationName: string | undefined): boolean {
  if (!body || typeof body !== 'object' || !('query' in body) || typeof body.query !== 'string') return false;
  try {
    const document = parse(body.query, { maxTokens: operationLimits.maxTokens });
    return getOperationAST(document, operationName)?.operation === 'mutation';
  } catch {
    // Apollo answers what does not parse.
    return false;
  }
}

/** The body as text, or `undefined` when it is larger than allowed. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > operationLimits.maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
