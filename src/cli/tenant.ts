/** `itportal tenant create --name <name> --host <host> [--host <host>]`. */
import { parseArgs } from 'node:util';
import { createTenantStore } from '../modules/tenants/tenant-store.js';
import { openMigrated } from './shared.js';

export async function tenant(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create') {
    console.error('usage: itportal tenant create --name <name> --host <host> [--host <host> ...]');
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      host: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  });
  if (!values.name || !values.host?.length) {
    console.error('itportal tenant create: --name and at least one --host are required');
    return 2;
  }
  const { database } = await openMigrated();
  try {
    const created = await createTenantStore(database.db).createTenant(values.name, values.host, Date.now());
    console.log(
      values.json
        ? JSON.stringify(created)
        : `tenant ${created.id} "${created.name}" answers ${created.hosts.join(', ')}`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
