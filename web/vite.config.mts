import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The care board: `web/` built into `dist/web`, which the server serves at `/` (src/http/webApp.ts). */
export default defineConfig({
  root: here,
  base: '/',
  build: {
    outDir: path.join(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    // The page's Content-Security-Policy allows only this server's own scripts: no inline polyfill.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
  },
});
