/** What every subcommand needs: the config, an open and migrated database, the default tenant. */
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type Database } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { createTenantStore } from '../modules/tenants/tenant-store.js';

export interface Opened {
  config: Config;
  database: Database;
  defaultTenantId: number;
}

export async function openMigrated(env: NodeJS.ProcessEnv = process.env): Promise<Opened> {
  const config = loadConfig(env);
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database);
    const defaultTenantId = await createTenantStore(database.db).defaultTenantId(Date.now());
    return { config, database, defaultTenantId };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/** The tenant a subcommand acts on: --tenant <id>, or the default tenant. */
export function tenantOption(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error('--tenant must be a tenant id (an integer)');
  return Number(value);
}

export const CLI_ACTOR = { userId: null, username: 'cli', ip: null, userAgent: 'itportal-cli' };
