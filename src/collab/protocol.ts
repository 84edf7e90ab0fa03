import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/**
 * The y-websocket wire protocol (y-protocols): every frame is one binary message whose first varuint
 * says what it is. Parsed here, strictly and without touching any socket or document; anything that
 * does not parse completely is a `ProtocolError`, which closes that connection and nothing else.
 */
const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_AUTH = 2;
const MESSAGE_QUERY_AWARENESS = 3;

const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

const AUTH_PERMISSION_DENIED = 0;

/** Why the server closed a collab connection: the error vocabulary of the live document. */
export enum CollabCloseCode {
  /** A frame that is not a well-formed y-protocols message. */
  MalformedMessage = 4400,
  /** No valid token or ticket at the upgrade, or the token expired while connected. */
  Unauthenticated = 4401,
  /** Not on the patient's care team at the upgrade, or removed from it while connected. */
  Forbidden = 4403,
  /** No such plan (or a plan id that is not an id). */
  NotFound = 4404,
  /** The server failed unexpectedly; reconnecting may work. */
  InternalError = 1011,
  /** The document could not be stored; reconnecting loads it afresh. */
  StorageFailed = 4500,
  /** The server is shutting down. */
  GoingAway = 1001,
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The client's state; null when it left. */
  state: Record<string, unknown> | null;
}

/** An awareness entry as received, with the size of its state as sent (JSON, bytes). */
export interface ReceivedAwareness extends AwarenessEntry {
  bytes: number;
}

export type ClientMessage =
  | { type: 'syncStep1'; stateVector: Uint8Array }
  /** Sync step 2 and incremental updates: both carry a Yjs update the client wants applied. */
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; entries: ReceivedAwareness[] }
  | { type: 'queryAwareness' };

export function parseClientMessage(frame: Uint8Array): ClientMessage {
  try {
    const decoder = decoding.createDecoder(frame);
    const message = parse(decoder);
    if (decoding.hasContent(decoder)) throw new ProtocolError('trailing bytes after the message');
    return message;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('message could not be decoded');
  }
}

function parse(decoder: decoding.Decoder): ClientMessage {
  const type = decoding.readVarUint(decoder);
  switch (type) {
    case MESSAGE_SYNC: {
      const step = decoding.readVarUint(decoder);
      const payload = decoding.readVarUint8Array(decoder);
      if (step === SYNC_STEP_1) {
        Y.decodeStateVector(payload); // throws when malformed
        return { type: 'syncStep1', stateVector: payload };
      }
      if (step === SYNC_STEP_2 || step === SYNC_UPDATE) return { type: 'update', update: payload };
      throw new ProtocolError(`unknown sync message ${step}`);
    }
    case MESSAGE_AWARENESS:
      return { type: 'awareness', entries: parseAwareness(decoding.readVarUint8Array(decoder)) };
    case MESSAGE_QUERY_AWARENESS:
      return { type: 'queryAwareness' };
    case MESSAGE_AUTH:
      throw new ProtocolError('clients do not send auth messages');
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
}

const utf8 = new TextDecoder();

function parseAwareness(update: Uint8Array): ReceivedAwareness[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: ReceivedAwareness[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarUint8Array(decoder);
    const state: unknown = JSON.parse(utf8.decode(json));
    if (state !== null && (typeof state !== 'object' || Array.isArray(state)))
      throw new ProtocolError('awareness state must be an object or null');
    entries.push({ clientId, clock, state: state as Record<string, unknown> | null, bytes: json.length });
  }
  if (decoding.hasContent(decoder)) throw new ProtocolError('trailing bytes in awareness update');
  return entries;
}

function message(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export const syncStep1Message = (stateVector: Uint8Array) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, SYNC_STEP_1);
    encoding.writeVarUint8Array(e, stateVector);
  });

export const syncStep2Message = (update: Uint8Array) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, SYNC_STEP_2);
    encoding.writeVarUint8Array(e, update);
  });

export const updateMessage = (update: Uint8Array) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, SYNC_UPDATE);
    encoding.writeVarUint8Array(e, update);
  });

export const awarenessMessage = (entries: AwarenessEntry[]) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    const inner = encoding.createEncoder();
    encoding.writeVarUint(inner, entries.length);
    for (const { clientId, clock, state } of entries) {
      encoding.writeVarUint(inner, clientId);
      encoding.writeVarUint(inner, clock);
      encoding.writeVarString(inner, JSON.stringify(state));
    }
    encoding.writeVarUint8Array(e, encoding.toUint8Array(inner));
  });

export const permissionDeniedMessage = (reason: string) =>
  message((e) => {
    encoding.writeVarUint(e, MESSAGE_AUTH);
    encoding.writeVarUint(e, AUTH_PERMISSION_DENIED);
    encoding.writeVarString(e, reason);
  });
