/** `itportal tenant create --name <name> --host <host> [--host <host>]`. */
import { createTenantStore } from '../modules/tenants/tenant-store.js';
import { openMigrated } from './shared.js';

export async function createTenant(opts: { name: string; host: string[]; json?: boolean }): Promise<number> {
  const { database } = await openMigrated();
  try {
    const created = await createTenantStore(database.db).createTenant(opts.name, opts.host, Date.now());
    console.log(
      opts.json
        ? JSON.stringify(created)
        : `tenant ${created.id} "${created.name}" answers ${created.hosts.join(', ')}`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
