/** What every subcommand needs: the config, an open and migrated database, the default tenant. */
import os from 'node:os';
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

/**
 * Who acted, for an event written by the command line: `cli:<OS user>@<host>` (there is no portal
 * user; the operator's account and machine are what an auditor can follow up).
 */
export function cliActor(): { userId: null; username: string; ip: null; userAgent: string } {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return {
    userId: null,
    username: `cli:${user}@${os.hostname()}`.slice(0, 200),
    ip: null,
    userAgent: 'itportal-cli',
  };
}
