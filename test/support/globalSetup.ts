import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import { createLogger } from '../../src/logger';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server the tests may create databases on. */
    adminDatabaseUrl: string;
  }
}

/**
 * One PostgreSQL for the whole run (DATABASE_URL, or an embedded one in a temporary directory), and
 * one `tsc` build for the tests that run the real server as a child process, and the care board's
 * build (only when its sources changed) for the ones that serve it.
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['web/build.mjs', '--if-stale'], { stdio: 'inherit' });

  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  const configured = process.env.DATABASE_URL;
  if (configured) {
    project.provide('adminDatabaseUrl', configured);
  } else {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kap-test-pg-'));
    // Run as root, PostgreSQL runs as the postgres OS user, which must be able to enter this directory.
    await chmod(dir, 0o755);
    embedded = await startEmbeddedPostgres(path.join(dir, 'data'), createLogger('warn'));
    project.provide('adminDatabaseUrl', embedded.url);
  }
  return async () => {
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
