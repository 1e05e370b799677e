/**
 * A legacy LogsAdmin row, inserted the old way (schema at 0001, free-text action/message, no tags),
 * surfaces after the upgrade as AdminAction / info / success with its raw fields in Details.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { buildKey, drain, login } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`migrations on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer | undefined;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('surfaces a pre-upgrade admin log row as AdminAction', async () => {
      const config = loadConfig(testDb.env);
      const database: Database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      expect(await migrateToLatest(database, '0001-initial')).toEqual(['0001-initial']);
      const at = Date.UTC(2024, 2, 1, 12, 0, 0, 123);
      await sql`insert into tenants (name, is_default, created_at) values ('Default', 1, ${at})`.execute(
        database.db,
      );
      await sql`insert into logs_admin (tenant_id, user_id, username, action, message, ip, created_at)
                values (1, 42, 'old-admin', 'SETTINGS_CHANGED', 'changed the backup schedule', '192.0.2.7', ${at})`.execute(
        database.db,
      );
      expect(await migrateToLatest(database)).toEqual([
        '0002-event-store',
        '0003-portal',
        '0004-hardening',
        '0005-log',
        '0006-refusal-index',
      ]);
      await database.close();

      server = await startServer(testDb);
      const { key } = await buildKey(server, await login(server));
      const { events } = await drain(server, key);
      const legacy = events.find((e) => e.Actor.Username === 'old-admin')!;
      expect(legacy).toMatchObject({
        Id: 'LogsAdmin:1',
        Timestamp: '2024-03-01T12:00:00.123Z',
        EventType: 'AdminAction',
        Category: 'Admin',
        Severity: 'info',
        Outcome: 'success',
        SourceTable: 'LogsAdmin',
        Actor: { UserId: 42, Username: 'old-admin', ClientId: null },
        Ip: '192.0.2.7',
        Controls: ['AU-2'],
      });
      expect(legacy.Details).toMatchObject({
        action: 'SETTINGS_CHANGED',
        message: 'changed the backup schedule',
        legacy: true,
      });
      // It is first: the oldest retained event, before everything written after the upgrade.
      expect(events[0]!.Id).toBe('LogsAdmin:1');
      // And the filter treats it as what it surfaces as.
      const filtered = await drain(server, key, { eventType: 'AdminAction' });
      expect(filtered.events.map((e) => e.Id)).toContain('LogsAdmin:1');
    });
  });
}
