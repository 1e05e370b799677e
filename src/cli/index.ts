/**
 * The `itportal` command: one file per subcommand, each loaded only when called, so that a cron run
 * of `siem pull` does not load the server, the database drivers and their dependencies.
 */
import { ConfigError } from '../config.js';
import { isAppError } from '../errors.js';

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
        return await (await import('./serve.js')).serve();
      case 'migrate':
        return await (await import('./migrate.js')).migrate();
      case 'tenant':
        return await (await import('./tenant.js')).tenant(rest);
      case 'user':
        return await (await import('./user.js')).user(rest);
      case 'siem-key':
        return await (await import('./siem-key.js')).siemKey(rest);
      case 'demo':
        return await (await import('./demo.js')).demo(rest);
      case 'siem':
        return await (await import('./siem-pull.js')).siem(rest);
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
