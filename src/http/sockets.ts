import type { WebSocket, WebSocketServer } from 'ws';
import type { SocketLimits } from '../config/config';
import type { Logger } from '../logger';

/**
 * The heartbeat's turns: each pings its share of the sockets. Pinging all of them at once is a send
 * system call per socket back to back, which with a thousand subscribers holds the event loop, and
 * every alert due meanwhile, for a noticeable time at every heartbeat (BENCHMARKS.md, issue 19).
 */
const TURNS_PER_HEARTBEAT = 50;

/**
 * Pings every socket of `wss` once every `heartbeatMs` and cuts those that did not answer the ping
 * before, spread over the heartbeat (`TURNS_PER_HEARTBEAT`): the sockets open when a heartbeat
 * begins, in turns, each at the same place in its heartbeat as long as the others stay. A peer that
 * has stopped reading never sees the ping either, so this also bounds what it can pile up to what is
 * sent to it in two heartbeats. Returns the function that stops it.
 */
export function keepAlive(
  wss: WebSocketServer,
  limits: SocketLimits,
  logger: Logger,
  endpoint: string,
): () => void {
  const unanswered = new WeakSet<WebSocket>();
  wss.on('connection', (ws: WebSocket) => {
    ws.on('pong', () => unanswered.delete(ws));
  });
  let turn = 0;
  let heartbeat: WebSocket[] = [];
  let perTurn = 0;
  const timer = setInterval(() => {
    if (turn === 0) {
      heartbeat = [...wss.clients];
      perTurn = Math.ceil(heartbeat.length / TURNS_PER_HEARTBEAT);
    }
    for (const ws of heartbeat.slice(turn * perTurn, (turn + 1) * perTurn)) {
      // Closed since the heartbeat began.
      if (ws.readyState !== ws.OPEN) continue;
      if (unanswered.has(ws)) {
        logger.info({ endpoint }, 'WebSocket peer did not answer a ping; connection cut');
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.ping();
    }
    turn = (turn + 1) % TURNS_PER_HEARTBEAT;
  }, limits.heartbeatMs / TURNS_PER_HEARTBEAT);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Sends `data` on `ws` if it is open, then cuts the socket if more than `maxBufferedBytes` wait to
 * be sent: the peer is not reading, and holding more for it is memory the other peers need.
 */
export function sendWithin(
  ws: WebSocket,
  data: string | Uint8Array,
  limits: SocketLimits,
  logger: Logger,
  endpoint: string,
): void {
  // Once cut (or closing), nothing more is sent; the socket's other subscriptions end with it.
  if (ws.readyState !== ws.OPEN) return;
  ws.send(data);
  if (ws.bufferedAmount > limits.maxBufferedBytes) {
    logger.warn(
      { endpoint, bufferedBytes: ws.bufferedAmount },
      'WebSocket peer is not reading; connection cut',
    );
    ws.terminate();
  }
}

/** The longest delay a Node timer keeps (about 24.8 days); a later one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Closes `ws` with `code` once the token it was opened with expires (`expiresAt`): a socket is
 * authenticated when it opens, and must not outlive what authenticated it. A stock client then
 * reconnects with a fresh token and catches up.
 */
export function closeAtExpiry(ws: WebSocket, expiresAt: Date, code: number): void {
  let timer: NodeJS.Timeout | undefined;
  const wait = () => {
    const left = expiresAt.getTime() - Date.now();
    if (left <= 0) ws.close(code, 'token expired');
    else timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
  };
  wait();
  ws.once('close', () => clearTimeout(timer));
}
