/**
 * Build of the web UI (src/web) into dist/web, which the server serves statically. The docs are not
 * copied here: the server renders them from docs/ (src/modules/docs/docs-routes.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(repoRoot, 'dist/web');

export default defineConfig({
  root: path.join(repoRoot, 'src/web'),
  base: '/',
  publicDir: path.join(repoRoot, 'src/web/public'),
  esbuild: { jsx: 'automatic' },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // No inline <script>: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  logLevel: 'warn',
});
