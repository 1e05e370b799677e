/**
 * An event and the change it describes commit together: make the event write fail after the change
 * and neither is stored; make the change fail and no event is stored. Failures are injected with real
 * database triggers, on every store.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/connect.js';
import { buildKey, http, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

/** A trigger that makes every insert (or update) into `table` fail, until dropped. */
async function failWrites(database: Database, table: string, on: 'insert' | 'update' = 'insert') {
  const name = `itp_fail_${table}_${on}`;
  if (database.dialect.kind === 'postgres') {
    await sql
      .raw(
        `create or replace function itp_fail() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`,
      )
      .execute(database.db);
    await sql
      .raw(`create trigger ${name} before ${on} on ${table} for each row execute function itp_fail()`)
      .execute(database.db);
  } else {
    await sql
      .raw(
        `create trigger ${name} before ${on} on ${table} begin select raise(abort, 'injected failure'); end`,
      )
      .execute(database.db);
  }
  return async () => {
    await sql
      .raw(`drop trigger ${name}${database.dialect.kind === 'postgres' ? ` on ${table}` : ''}`)
      .execute(database.db);
  };
}

const count = async (
  database: Database,
  table: 'logs_admin' | 'logs_login' | 'logs_siem_poll' | 'siem_keys' | 'users' | 'sessions',
) =>
  Number(
    (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(database.db)).rows[0]!.n,
  );

for (const kind of STORES) {
  describe(`change and event commit together on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      cookie = await login(server);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('a setting is not changed when its PolicyChange cannot be written', async () => {
      const before = (await http(server, 'GET', '/api/admin/settings/password-policy', { cookie })).body;
      const events = await count(server.database, 'logs_admin');
      const restore = await failWrites(server.database, 'logs_admin');
      try {
        const res = await http(server, 'PUT', '/api/admin/settings/password-policy', {
          cookie,
          body: { minLength: 20, lockoutThreshold: 2, lockoutMinutes: 5 },
        });
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ Error: 'internal_error', Message: expect.stringMatching(/request id/) });
        expect(res.text).not.toMatch(/injected|trigger|\bat /);
      } finally {
        await restore();
      }
      expect((await http(server, 'GET', '/api/admin/settings/password-policy', { cookie })).body).toEqual(
        before,
      );
      expect(await count(server.database, 'logs_admin')).toBe(events);
    });

    it('no PolicyChange is stored when the setting cannot be written', async () => {
      await http(server, 'GET', '/api/admin/settings/acl', { cookie });
      const events = await count(server.database, 'logs_admin');
      const restore = await failWrites(server.database, 'tenant_settings');
      try {
        const res = await http(server, 'PUT', '/api/admin/settings/acl', {
          cookie,
          body: { member: { companies: 'read', documents: 'read', passwords: 'none' } },
        });
        expect(res.status).toBe(500);
      } finally {
        await restore();
      }
      expect(await count(server.database, 'logs_admin')).toBe(events);
    });

    it("a poll is answered only with its record, and the key's last use moves only with it", async () => {
      const { id, key } = await buildKey(server, cookie, { description: 'poll atomicity' });
      const lastUse = async () =>
        (
          await sql<{ at: number | null; next: number | null }>`select last_used_at as at,
            delivered_next_seq as next from siem_keys where id = ${id}`.execute(server.database.db)
        ).rows[0]!;
      const before = await lastUse();
      const records = await count(server.database, 'logs_siem_poll');
      // The record cannot be written: the poll fails (no page leaves without its trace) and the key's
      // last use is not moved; then the key's update fails: no record is left behind.
      for (const [table, on] of [
        ['logs_siem_poll', 'insert'],
        ['siem_keys', 'update'],
      ] as const) {
        const restore = await failWrites(server.database, table, on);
        try {
          const res = await poll(server, key, { limit: 10 });
          expect(res.status).toBe(500);
          expect(res.text).not.toMatch(/injected|trigger|\bat /);
        } finally {
          await restore();
        }
        expect(await lastUse()).toEqual(before);
        expect(await count(server.database, 'logs_siem_poll')).toBe(records);
      }
      // And with nothing failing, both move together.
      expect((await poll(server, key, { limit: 10 })).status).toBe(200);
      expect(await count(server.database, 'logs_siem_poll')).toBe(records + 1);
      const after = await lastUse();
      expect(Number(after.at)).toBeGreaterThan(0);
      expect(Number(after.next)).toBeGreaterThan(0);
    });

    it('a SIEM key is not issued without its event, nor its event without the key', async () => {
      const keys = await count(server.database, 'siem_keys');
      const events = await count(server.database, 'logs_admin');
      let restore = await failWrites(server.database, 'logs_admin');
      try {
        expect(
          (await http(server, 'POST', '/api/admin/siem/keys', { cookie, body: { description: 'doomed' } }))
            .status,
        ).toBe(500);
      } finally {
        await restore();
      }
      expect(await count(server.database, 'siem_keys')).toBe(keys);
      restore = await failWrites(server.database, 'siem_keys');
      try {
        expect(
          (
            await http(server, 'POST', '/api/admin/siem/keys', {
              cookie,
              body: { description: 'doomed too' },
            })
          ).status,
        ).toBe(500);
      } finally {
        await restore();
      }
      expect(await count(server.database, 'logs_admin')).toBe(events);
    });

    it('a user is not created without its AdminAction, and a session not opened without its Login.Success', async () => {
      const users = await count(server.database, 'users');
      let restore = await failWrites(server.database, 'logs_admin');
      try {
        const res = await http(server, 'POST', '/api/admin/users', {
          cookie,
          body: { username: 'ghost', password: 'ghost-password-long', role: 'member' },
        });
        expect(res.status).toBe(500);
      } finally {
        await restore();
      }
      expect(await count(server.database, 'users')).toBe(users);

      const sessions = await count(server.database, 'sessions');
      restore = await failWrites(server.database, 'logs_login');
      try {
        const res = await http(server, 'POST', '/api/auth/login', {
          body: { username: 'admin', password: 'admin-password-for-tests' },
        });
        expect(res.status).toBe(500);
        expect(res.headers.get('set-cookie')).toBeNull();
      } finally {
        await restore();
      }
      expect(await count(server.database, 'sessions')).toBe(sessions);
      const logins = await count(server.database, 'logs_login');
      restore = await failWrites(server.database, 'sessions');
      try {
        expect(
          (
            await http(server, 'POST', '/api/auth/login', {
              body: { username: 'admin', password: 'admin-password-for-tests' },
            })
          ).status,
        ).toBe(500);
      } finally {
        await restore();
      }
      expect(await count(server.database, 'logs_login')).toBe(logins);
    });
  });
}
