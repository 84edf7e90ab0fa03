import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
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

/** `socket` passes options to the client's `ws` socket, e.g. `autoPong: false` for a peer that has gone silent. */
export async function collabClient(serverUrl: string, planId: string, token: string, socket: WebSocket.ClientOptions = {}): Promise<CollabClient> {
  const frames: Buffer[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, socket);
      this.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${serverUrl.replace(/^http/, 'ws')}/collab`, planId, doc, {
    params: { token },
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
      provider.destroy();
      doc.destroy();
    },
  };
  await new Promise<void>((resolve) => (provider.synced ? resolve() : provider.once('sync', () => resolve())));
  return client;
}
