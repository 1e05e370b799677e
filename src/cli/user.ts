/**
 * `itportal user create --username <u> [--role admin|member] [--tenant <id>] [--password-file <f>]`.
 * The password comes from a file, from ITPORTAL_PASSWORD, or is generated and printed once; never from
 * a flag, which would show in `ps` and shell history.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createContext } from '../app.js';
import { generatePassword } from '../modules/auth/password.js';
import { CLI_ACTOR, openMigrated, tenantOption } from './shared.js';

export async function user(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create') {
    console.error(
      'usage: itportal user create --username <name> [--role admin|member] [--tenant <id>] [--password-file <file>]',
    );
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      username: { type: 'string' },
      role: { type: 'string', default: 'member' },
      tenant: { type: 'string' },
      'password-file': { type: 'string' },
    },
  });
  if (!values.username) {
    console.error('itportal user create: --username is required');
    return 2;
  }
  if (values.role !== 'admin' && values.role !== 'member') {
    console.error('itportal user create: --role must be admin or member');
    return 2;
  }
  const fromFile = values['password-file']
    ? fs.readFileSync(values['password-file'], 'utf8').trim()
    : undefined;
  const password = fromFile ?? process.env.ITPORTAL_PASSWORD ?? generatePassword();
  const { config, database, defaultTenantId } = await openMigrated();
  const { ctx, close } = await createContext(config, database);
  try {
    const created = await ctx.users.createUser({
      tenantId: tenantOption(values.tenant, defaultTenantId),
      username: values.username,
      password,
      role: values.role,
      actor: CLI_ACTOR,
    });
    console.log(`user ${created.id} "${created.username}" (${created.role}) created`);
    if (!fromFile && !process.env.ITPORTAL_PASSWORD)
      console.log(`generated password (shown once): ${password}`);
    return 0;
  } finally {
    await close();
    await database.close();
  }
}
