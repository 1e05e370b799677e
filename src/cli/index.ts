/** The `itportal` command: one file per subcommand. */
import { ConfigError } from '../config.js';
import { isAppError } from '../errors.js';
import { demo } from './demo.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';
import { siemKey } from './siem-key.js';
import { siem } from './siem-pull.js';
import { tenant } from './tenant.js';
import { user } from './user.js';

const HELP = `itportal — IT Portal audit trail and SIEM feed

  itportal serve                         start the portal (what npm start runs)
  itportal migrate                       apply database migrations
  itportal tenant create --name N --host H [--host H2]
  itportal user create --username U [--role admin|member] [--tenant ID] [--password-file F]
  itportal siem-key issue --description D [--allowed-cidrs C] [--tenant ID] [--json]
  itportal siem-key list [--tenant ID] [--json]
  itportal siem-key revoke KEY_ID [--tenant ID]
  itportal demo [--events N] [--days D] [--tenant ID]   fill a tenant with realistic activity
  itportal siem pull --url URL --key-file F --out FILE [--once] ...  (reference SIEM client; --help)

Configuration comes from the environment (DATABASE_URL, DATA_DIR, ...): see README.md.`;

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve();
      case 'migrate':
        return await migrate();
      case 'tenant':
        return await tenant(rest);
      case 'user':
        return await user(rest);
      case 'siem-key':
        return await siemKey(rest);
      case 'demo':
        return await demo(rest);
      case 'siem':
        return await siem(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? 2 : 0;
      default:
        console.error(`itportal: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (isAppError(err) || err instanceof ConfigError) {
      console.error(`itportal ${command}: ${err.message}`);
      return 1;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`itportal ${command}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
