#!/usr/bin/env node
// The `itportal` command. The TypeScript sources are compiled to dist/ by `npm ci` (prepare).
import { runCli } from '../dist/cli/index.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
