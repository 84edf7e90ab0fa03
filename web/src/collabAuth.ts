import type { Api } from './graphql';

/**
 * What the live document's WebSocket carries to prove who is connecting: y-websocket puts `params`
 * in the URL's query, so the bearer token must not go there.
 */
export async function collabParams(_api: Api, _planId: string, token: string): Promise<Record<string, string>> {
  return { token };
}
