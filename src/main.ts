/** What `npm start` runs: the portal on the configured store. */
import { serve } from './cli/serve.js';

serve().catch((err: unknown) => {
  console.error(`itportal: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
