import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { PLAN_SECTIONS } from '../../src/domain/plans';
import { TreatmentPlanDocument } from '../generated/graphql';
import type { TestClinician, TestServer } from './server';
import { PATIENCE_MS } from './subscription';

/** A stock y-websocket client on a plan, recording what it was refused and every frame it received. */
export interface CollabClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Reasons of the permission-denied messages it received. */
  denied: string[];
  /** Every frame it received, raw. */
  frames: Buffer[];
  text(key: string): string;
  /** Resolves once `condition` holds after some change to the document (or at once). */
  until(condition: () => boolean, what?: string): Promise<void>;
  destroy(): void;
}

/**
 * `credential` is a bearer token, or `{ ticket }` from `collabTicket`. `socket` passes options to the
 * client's `ws` socket, e.g. `autoPong: false` for a peer that has gone silent. `doc` is the replica,
 * a fresh one unless an earlier client's (whose provider was destroyed) reconnects with its own.
 */
export async function collabClient(
  serverUrl: string,
  planId: string,
  credential: string | { ticket: string },
  socket: WebSocket.ClientOptions = {},
  doc = new Y.Doc(),
): Promise<CollabClient> {
  const frames: Buffer[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, socket);
      this.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
    }
  }
  const provider = new WebsocketProvider(`${serverUrl.replace(/^http/, 'ws')}/collab`, planId, doc, {
    params: typeof credential === 'string' ? { token: credential } : credential,
    WebSocketPolyfill: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 200,
  });
  const denied: string[] = [];
  provider.messageHandlers[2] = (_encoder, decoder) => {
    decoding.readVarUint(decoder); // permission-denied
    denied.push(decoding.readVarString(decoder));
  };
  const client: CollabClient = {
    doc,
    provider,
    denied,
    frames,
    text: (key) => doc.getText(key).toString(),
    until: (condition, what = 'condition') =>
      new Promise((resolve, reject) => {
        if (condition()) return resolve();
        const timer = setTimeout(() => {
          doc.off('update', check);
          reject(new Error(`timed out waiting for ${what}`));
        }, PATIENCE_MS);
        const check = () => {
          if (!condition()) return;
          clearTimeout(timer);
          doc.off('update', check);
          resolve();
        };
        doc.on('update', check);
      }),
    destroy: () => {
      try {
        provider.destroy();
      } catch {
        // A replica that was sent content under its own client id it never made (the placeholder of
        // a hand-written update) takes a new client id, as Yjs does on a clash, and y-websocket's
        // awareness then fails in destroy: close the socket as destroy would have.
        provider.shouldConnect = false;
        provider.ws?.close();
      }
      doc.destroy();
    },
  };
  await new Promise<void>((resolve) =>
    provider.synced ? resolve() : provider.once('sync', () => resolve()),
  );
  return client;
}

/** What a stock provider that the server refused went through. */
export interface Refusal {
  /** The `closed` event: the provider gave up. */
  code: number;
  reason: string;
  /** Sockets it opened, counted after its next reconnect would have run. */
  attempts: number;
  /** Frames it received (none: a refused connection gets no document). */
  frames: number;
  /** Statuses it went through. */
  statuses: string[];
}

/** Opens a stock y-websocket provider that the server must refuse, and waits until it gives up. */
export async function refusedProvider(
  serverUrl: string,
  planId: string,
  params: Record<string, string>,
): Promise<Refusal> {
  let attempts = 0;
  let frames = 0;
  class CountingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      attempts++;
      this.on('message', () => frames++);
    }
  }
  const maxBackoffTime = 100;
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${serverUrl.replace(/^http/, 'ws')}/collab`, planId, doc, {
    params,
    WebSocketPolyfill: CountingWebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime,
  });
  const statuses: string[] = [];
  provider.on('status', ({ status }) => statuses.push(status));
  try {
    const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the provider did not give up (${attempts} attempts)`)),
        PATIENCE_MS,
      );
      provider.once('closed', (event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
    // The provider schedules its next attempt at most maxBackoffTime after a close; a timer set
    // now for longer fires after that one, so a retry would have opened a socket by then.
    await new Promise((resolve) => setTimeout(resolve, maxBackoffTime * 3));
    return { ...closed, attempts, frames, statuses };
  } finally {
    provider.destroy();
    doc.destroy();
  }
}

/** Each section's text in a replica. */
export const docTexts = (doc: Y.Doc): Record<string, string> =>
  Object.fromEntries(PLAN_SECTIONS.map(({ key }) => [key, doc.getText(key).toString()]));

/** Each section's text as GraphQL shows it to `reader`. */
export async function graphqlTexts(reader: TestClinician, planId: string): Promise<Record<string, string>> {
  const { treatmentPlan } = await reader.http.request(TreatmentPlanDocument, { id: planId });
  return Object.fromEntries(treatmentPlan!.sections.map((s) => [s.key, s.text]));
}

/** Every stored byte of a plan's document: its update log and its snapshot. */
export async function storedBytes(server: TestServer, planId: string): Promise<Buffer> {
  const updates = await server.sql<{ update: Buffer }>('select update from plan_update where plan_id = $1', [
    planId,
  ]);
  const snapshots = await server.sql<{ state: Buffer }>(
    'select state from plan_snapshot where plan_id = $1',
    [planId],
  );
  return Buffer.concat([...updates.map((r) => r.update), ...snapshots.map((r) => r.state)]);
}
