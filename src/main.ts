import 'reflect-metadata';
import { startApp } from './app';
import { createTokenService } from './auth/tokens';
import { ConfigError, loadConfig } from './config/config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded';
import { openOrm } from './db/orm';
import { demoClinicians, demoDataPresent, seedDemoData } from './db/seed';
import { demoTokenIssuer } from './auth/demoTokens';
import { createLogger } from './logger';
import path from 'node:path';

/** `npm start`: configuration, database, migrations, demo data, then serve until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const started = Date.now();

  // What has been started so far, stopped in reverse order when a later step fails (a port already
  // taken, say), so a failed start leaves no database running.
  const stopOnFailure: (() => Promise<void>)[] = [];
  const undo = async () => {
    for (const stop of stopOnFailure.reverse()) await stop().catch(() => {});
  };
  let embedded: EmbeddedDatabase | undefined;
  let running;
  try {
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      // Its own process group: Ctrl-C reaches only this process, which drains before stopping it.
      embedded = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), logger, {
        ownProcessGroup: true,
      });
      stopOnFailure.push(embedded.stop);
      databaseUrl = embedded.url;
    }
    const orm = await openOrm(databaseUrl);
    stopOnFailure.push(() => orm.close());
    const tokens = await createTokenService(config.jwt, config.dataDir);
    const seeded = config.seedDemo ? await seedDemoData(orm) : false;
    const demoTokens =
      config.seedDemo && tokens.sign && (seeded || (await demoDataPresent(orm)))
        ? demoTokenIssuer(tokens.sign, demoClinicians)
        : undefined;
    const app = await startApp({
      config,
      orm,
      tokens,
      logger,
      demoTokens: config.production ? undefined : demoTokens,
      webAppDir: config.webApp ? path.join(__dirname, '..', 'web') : undefined,
    });
    running = { orm, seeded, demoTokens, app };
  } catch (error) {
    await undo();
    throw error;
  }
  const { orm, seeded, demoTokens, app } = running;

  const wsUrl = app.url.replace(/^http/, 'ws');
  const lines = [
    ...(config.webApp
      ? [`Care board: ${app.url}/${demoTokens ? '  (sign in as a demo clinician)' : ''}`]
      : []),
    `KAP Care Graph ready in ${Date.now() - started} ms${embedded ? ' (embedded PostgreSQL under ' + path.relative(process.cwd(), path.join(config.dataDir, 'postgres')) + ')' : ''}`,
    `  GraphQL:  ${app.url}/graphql  (WebSocket: ${wsUrl}/graphql)`,
    `  Collab:   ${wsUrl}/collab/<planId>?ticket=<collabTicket(planId) ticket>  (or ?token=<jwt>)`,
  ];
  if (seeded) lines.push('  Seeded demo clinicians and patients.');
  for (const { role, name, token } of (await demoTokens?.()) ?? []) {
    lines.push(`  ${role.toLowerCase()} token (${name}, 24 h):`, `    Authorization: Bearer ${token}`);
  }
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await orm.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error(`Startup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
