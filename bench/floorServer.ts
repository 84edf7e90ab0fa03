import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The floor for fan-out benchmarks: a bare `ws` server that sends whatever is POSTed to /broadcast to
 * every connected socket, then answers. No GraphQL, no database, no checks.
 */
const sockets = new Set<WebSocket>();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const payload = Buffer.concat(chunks).toString();
    // Answered first, then fanned out: as the server answers `recordMeasure` at commit and fans the
    // alert out once PostgreSQL delivers the NOTIFY.
    res.writeHead(204).end(() => {
      for (const socket of sockets) socket.send(payload);
    });
  });
});
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`FLOOR ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => process.exit(0));
