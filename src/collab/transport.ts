import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Role } from '../domain/roles';
import { AppError } from '../errors';
import { KeyedSerial } from '../events/inOrder';
import type { SocketLimits } from '../config/config';
import { closeAtExpiry, sendWithin } from '../http/sockets';
import { clip, type Logger } from '../logger';
import { CollabCloseCode, ProtocolError, parseClientMessage } from './protocol';
import type { Peer, Room } from './room';
import type { Rooms } from './rooms';

/** Who may open a plan's document, decided before the upgrade is answered. */
export interface CollabAccess {
  clinician: { id: string; name: string; role: Role };
  patientId: string;
  /** Ties the connection's stored edits to its audit entries. */
  requestId: string;
  /** When the token expires: the connection is closed then. */
  expiresAt: Date;
}

/** What the upgrade URL carries: a `collabTicket` ticket, or (older clients) the bearer token. */
export interface CollabCredentials {
  ticket?: string;
  token?: string;
}

export type AuthorizeCollab = (credentials: CollabCredentials, planId: string) => Promise<CollabAccess>;

const REFUSAL: Record<string, CollabCloseCode> = {
  UNAUTHENTICATED: CollabCloseCode.Unauthenticated,
  FORBIDDEN: CollabCloseCode.Forbidden,
  NOT_FOUND: CollabCloseCode.NotFound,
  BAD_USER_INPUT: CollabCloseCode.NotFound,
};

/**
 * The WebSocket side of the live document: `/collab/<planId>?ticket=…` (or `?token=…`). A refused
 * connection completes the handshake, is sent no frame and is closed with 4401, 4403 or 4404: a
 * browser sees an HTTP refusal of the upgrade only as 1006, on which y-websocket retries forever,
 * while a 44xx close tells it to stop. After the upgrade, frames go to the plan's room in order, one
 * connection at a time. A frame that does not parse closes that connection (4400), one over the
 * size limit too (1009, by `ws`); nobody else notices.
 */
export function collabTransport(options: {
  rooms: Rooms;
  authorize: AuthorizeCollab;
  maxMessageBytes: number;
  limits: SocketLimits;
  logger: Logger;
}) {
  const { rooms, authorize, limits, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  /** Each connection's frames, one at a time (keyed by the socket). */
  const frames = new KeyedSerial<WebSocket>();

  const refuse = (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    code: CollabCloseCode,
    reason: string,
  ): void => {
    logger.info({ requestId: requestIdOf(req), code }, 'collab connection refused');
    wss.handleUpgrade(req, socket, head, (ws) => ws.close(code, reason));
  };

  const connect = (ws: WebSocket, planId: string, access: CollabAccess) => {
    const peer: Peer = {
      clinician: access.clinician,
      requestId: access.requestId,
      send: (message) => sendWithin(ws, message, limits, logger, 'collab'),
      close: (code, reason) => ws.close(code, reason),
    };
    let room: Room | undefined;
    // Frames are handled strictly in order, including those that arrive while the plan loads.
    void frames.run(ws, async () => {
      try {
        room = await rooms.join(planId, access.patientId, peer);
      } catch (error) {
        logger.error(
          { err: { type: (error as Error).name, message: (error as Error).message }, planId },
          'opening a plan failed',
        );
        ws.close(CollabCloseCode.StorageFailed, 'the document could not be loaded');
      }
    });
    const who = { requestId: access.requestId, clinicianId: access.clinician.id };
    logger.info({ ...who, planId }, 'collab connected');
    closeAtExpiry(ws, access.expiresAt, CollabCloseCode.Unauthenticated);

    let handled = 0;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void frames.run(ws, async () => {
        // A burst of frames is a chain of promises that would starve I/O (the database's answers
        // among it, so nothing would be stored or relayed until the burst ends): yield now and then.
        if (++handled % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
        if (ws.readyState !== WebSocket.OPEN || !room) return;
        try {
          if (!isBinary) throw new ProtocolError('text frames are not part of the protocol');
          await room.receive(peer, parseClientMessage(toBytes(data)));
        } catch (error) {
          if (error instanceof ProtocolError) {
            ws.close(CollabCloseCode.MalformedMessage, `malformed message: ${error.message}`);
          } else {
            logger.error(
              { err: { type: (error as Error).name, stack: (error as Error).stack }, planId },
              'collab message failed',
            );
            ws.close(1011, 'internal error');
          }
        }
      });
    });
    ws.on('error', (error) =>
      logger.info({ err: { type: error.name, message: error.message }, planId }, 'collab socket error'),
    );
    ws.once('close', (code: number) => {
      logger.info({ ...who, code }, 'collab closed');
      frames.run(ws, async () => room && rooms.leave(room, peer)).catch(() => undefined);
    });
  };

  return {
    wss,
    async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, planId: string): Promise<void> {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      let access: CollabAccess;
      try {
        access = await authorize(
          { ticket: params.get('ticket') ?? undefined, token: params.get('token') ?? undefined },
          planId,
        );
      } catch (error) {
        // The reason goes to the client as the close frame's (at most 123 bytes).
        if (error instanceof AppError && REFUSAL[error.code] !== undefined)
          return refuse(req, socket, head, REFUSAL[error.code], closeReason(error.message));
        logger.error(
          { err: { type: (error as Error).name, stack: (error as Error).stack } },
          'collab upgrade failed',
        );
        return refuse(req, socket, head, CollabCloseCode.InternalError, 'internal error');
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit('connection', ws, req);
        connect(ws, planId, access);
      });
    },
  };
}

function requestIdOf(req: IncomingMessage): string | undefined {
  const inbound = req.headers['x-request-id'];
  return typeof inbound === 'string' ? clip(inbound, 64) : undefined;
}

function closeReason(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  return bytes.length <= 123
    ? message
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + '...';
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return new Uint8Array(data as Buffer);
}
