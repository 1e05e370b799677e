/**
 * One harness for every HTTP test: a real server (buildApp + listen on an ephemeral port) on a real
 * store, with its log lines captured so tests can grep them for secrets.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { AppContext, Clock } from '../src/app-context.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { EventTableName } from '../src/db/schema.js';
import { createTenantStore } from '../src/modules/tenants/tenant-store.js';
import type { TestDatabase } from './stores.js';

export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

export interface TestServer {
  url: string;
  app: FastifyInstance;
  ctx: AppContext;
  database: Database;
  logs: string[];
  close(): Promise<void>;
}

/** Opens (and migrates) a store connection of its own, e.g. for a writer outside any server. */
export async function openTestDatabase(testDb: TestDatabase, poolSize = 10): Promise<Database> {
  const database = openDatabase({
    databaseUrl: testDb.env.DATABASE_URL,
    dataDir: testDb.env.DATA_DIR!,
    poolSize,
  });
  await migrateToLatest(database);
  await createTenantStore(database.db).defaultTenantId(Date.now());
  return database;
}

/**
 * Rows written straight into an event table of tenant 1 (no service, no HTTP), one per time given, in
 * that order: for store-level tests that need a table's id order and time order to differ.
 */
export async function insertRawEvents(
  database: Database,
  table: EventTableName,
  eventType: string,
  times: readonly number[],
): Promise<void> {
  await database.db
    .insertInto(table)
    .values(
      times.map((t) => ({
        tenant_id: 1,
        created_at: t,
        event_type: eventType,
        severity: 'info',
        outcome: 'success',
        username: 'direct',
        details: '{}',
      })),
    )
    .execute();
}

export async function startServer(
  testDb: TestDatabase,
  env: Record<string, string> = {},
  options: { clock?: Clock } = {},
): Promise<TestServer> {
  const config = loadConfig({ ...testDb.env, LOG_LEVEL: 'info', ...env });
  const database = await openTestDatabase(testDb, 20);
  const logs: string[] = [];
  const { app, ctx } = await buildApp({
    config,
    database,
    clock: options.clock,
    logger: { stream: { write: (line: string) => void logs.push(line) } },
  }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const tenantId = await ctx.tenants.defaultTenantId(Date.now());
  await ctx.users.ensureFirstAdmin(tenantId, ADMIN.username, ADMIN.password);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    ctx,
    database,
    logs,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
