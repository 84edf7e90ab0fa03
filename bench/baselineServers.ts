import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

/**
 * Baselines for the collab benchmark, each in its own process as ours is: `node baselineServers.js
 * y-websocket` (the reference y-websocket server) or `… hocuspocus`. Both relay without permissions
 * and without storage. Prints `BASELINE <port>` once listening.
 */
async function main() {
  const which = process.argv[2];
  if (which === 'y-websocket') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { setupWSConnection } = require('@y/websocket-server/utils') as {
      setupWSConnection: (conn: unknown, req: unknown, options: { docName: string; gc: boolean }) => void;
    };
    const server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (conn, req) =>
      setupWSConnection(conn, req, { docName: (req.url ?? '/').slice(1).split('?')[0], gc: true }),
    );
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      console.log(`BASELINE ${typeof address === 'object' && address ? address.port : ''}`);
    });
  } else if (which === 'hocuspocus') {
    const { Server } = await import('@hocuspocus/server');
    const server = new Server({ port: 0, address: '127.0.0.1', quiet: true });
    await server.listen();
    console.log(`BASELINE ${server.address.port}`);
  } else {
    throw new Error(`unknown baseline ${which}`);
  }
}

void main();
process.on('SIGTERM', () => process.exit(0));
