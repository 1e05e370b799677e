/**
 * `itportal user create --username <u> [--role admin|member] [--tenant <id>] [--password-file <f>]`.
 * The password comes from a file, from ITPORTAL_PASSWORD, or is generated and printed once; never from
 * a flag, which would show in `ps` and shell history.
 */
import fs from 'node:fs';
import { createContext } from '../app.js';
import { generatePassword } from '../modules/auth/password.js';
import { cliActor, openMigrated, tenantOption } from './shared.js';

export async function createUser(opts: {
  username: string;
  role: 'admin' | 'member';
  tenant?: string;
  passwordFile?: string;
}): Promise<number> {
  const fromFile = opts.passwordFile ? fs.readFileSync(opts.passwordFile, 'utf8').trim() : undefined;
  const password = fromFile ?? process.env.ITPORTAL_PASSWORD ?? generatePassword();
  const { config, database, defaultTenantId } = await openMigrated();
  const { ctx, close } = await createContext(config, database);
  try {
    const created = await ctx.users.createUser({
      tenantId: tenantOption(opts.tenant, defaultTenantId),
      username: opts.username,
      password,
      role: opts.role,
      actor: cliActor(),
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
