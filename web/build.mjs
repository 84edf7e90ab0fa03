// `npm start` builds the care board only when its sources changed since the last build (a hash of
// them is kept beside the output), so a restart costs no Vite run; `npm run build` always builds.
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const outDir = path.join(root, 'dist', 'web');
const stamp = path.join(outDir, '.sources');

/** What the bundle is made of: the app, the shared clinical tables it imports, the locked dependencies. */
async function sourcesHash() {
  const hash = createHash('sha256');
  const files = [path.join(root, 'package-lock.json')];
  for (const dir of [here, path.join(root, 'src', 'domain')]) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
    }
  }
  files.push(path.join(root, 'src', 'errors.ts'));
  for (const file of files.sort()) hash.update(file).update(await readFile(file));
  return hash.digest('hex');
}

const ifStale = process.argv.includes('--if-stale');
const current = await sourcesHash();
const previous = await readFile(stamp, 'utf8').catch(() => '');
if (ifStale && previous === current) process.exit(0);
const started = Date.now();
// Loaded only when there is something to build: importing Vite alone takes longer than the check.
const { build } = await import('vite');
await build({ configFile: path.join(here, 'vite.config.mts'), logLevel: 'warn' });
await writeFile(stamp, current);
console.log(
  `Built the care board into ${path.relative(process.cwd(), outDir)} in ${Date.now() - started} ms`,
);
