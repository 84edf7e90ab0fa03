import type { Api } from './graphql';
import { COLLAB_TICKET } from './operations';

/**
 * What the live document's WebSocket carries to prove who is connecting. y-websocket puts `params`
 * in the URL's query, so not the bearer token: a single-use ticket (60 s, this plan, this clinician),
 * asked for over GraphQL before each connection.
 */
export async function collabParams(api: Api, planId: string): Promise<Record<string, string>> {
  const { collabTicket } = await api.request<{ collabTicket: { ticket: string } }>(COLLAB_TICKET, { planId });
  return { ticket: collabTicket.ticket };
}
