/**
 * Build of the web UI (src/web) into dist/web, which the server serves statically. The SIEM setup
 * guides (docs/siem) are copied beside it so that the SIEM page can link to them on the same origin.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(repoRoot, 'dist/web');

function copySiemDocs(): Plugin {
  return {
    name: 'itportal-copy-siem-docs',
    apply: 'build',
    closeBundle() {
      fs.cpSync(path.join(repoRoot, 'docs/siem'), path.join(outDir, 'docs/siem'), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, 'docs/api.md'), path.join(outDir, 'docs/api.md'));
    },
  };
}

export default defineConfig({
  root: path.join(repoRoot, 'src/web'),
  base: '/',
  publicDir: path.join(repoRoot, 'src/web/public'),
  esbuild: { jsx: 'automatic' },
  plugins: [copySiemDocs()],
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
