/**
 * The guarantee (SPEC §3): following NextCursor yields every event exactly once, whatever the timing.
 *
 * On PostgreSQL: two server instances on one database, 16 concurrent writers (some holding their
 * transaction open across polls, so commits land out of id order), a poller alternating between the
 * nodes and retrying pages. Removing the visibility-horizon predicate (dialect.ts) makes this fail
 * with missing events: a held-open transaction's rows end up behind a cursor that already passed a
 * later writer's rows.
 *
 * On SQLite the same test runs with one node (SQLite has one writer; several nodes on one file in one
 * test process would block each other synchronously), and writers that do not hold transactions open.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/connect.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { buildKey, drain, http, login, poll } from './factories.js';
import { openTestDatabase, startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const NO_RATE_LIMIT = { SIEM_RATE_LIMIT_PER_MINUTE: '100000', LOGIN_RATE_LIMIT_PER_MINUTE: '100000' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TYPES: EventType[] = [
  'Login.Success',
  'Login.Failure',
  'Access.Object',
  'Access.Denied',
  'PolicyChange',
  'AdminAction',
];
const FEED_TABLES = ['logs_login', 'logs_access', 'logs_admin', 'logs_denied'] as const;
const TABLE_NAMES: Record<string, string> = {
  logs_login: 'LogsLogin',
  logs_access: 'LogsAccess',
  logs_admin: 'LogsAdmin',
  logs_denied: 'LogsDenied',
};

async function allFeedIds(database: Database, tenantId: number): Promise<string[]> {
  const ids: string[] = [];
  for (const table of FEED_TABLES) {
    const rows = await database.db.selectFrom(table).select('id').where('tenant_id', '=', tenantId).execute();
    ids.push(...rows.map((r) => `${TABLE_NAMES[table]}:${r.id}`));
  }
  return ids;
}

for (const kind of STORES) {
  describe(`exactly-once on ${kind}`, () => {
    let testDb: TestDatabase;
    let nodes: TestServer[] = [];
    let writerDb: Database;
    let ownWriterDb = false;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      const first = await startServer(testDb, NO_RATE_LIMIT);
      nodes = [first];
      if (first.database.dialect.concurrentWriters) {
        nodes.push(await startServer(testDb, NO_RATE_LIMIT));
        writerDb = await openTestDatabase(testDb, 24);
        ownWriterDb = true;
      } else {
        writerDb = first.database;
      }
    });
    afterAll(async () => {
      for (const n of nodes) await n.close();
      if (ownWriterDb) await writerDb.close();
      await testDb?.drop();
    });

    it('delivers every event exactly once under concurrent writers, two nodes and retried pages', async () => {
      const holdOpen = writerDb.dialect.concurrentWriters;
      const tenantId = await nodes[0]!.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(nodes[0]!, await login(nodes[0]!));
      const WRITERS = 16;
      const PER_WRITER = 130;
      let running = WRITERS;
      let heldOpen = 0;

      async function directWriter(w: number) {
        for (let written = 0; written < PER_WRITER;) {
          const batch = Math.min(1 + Math.floor(Math.random() * 3), PER_WRITER - written);
          const hold = holdOpen && Math.random() < 0.25;
          await writerDb.db.transaction().execute(async (trx) => {
            for (let i = 0; i < batch; i++) {
              await appendEvent(
                trx,
                tenantId,
                {
                  eventType: TYPES[(w + written + i) % TYPES.length]!,
                  outcome: 'success',
                  actor: { userId: w, username: `writer${w}`, ip: '10.0.0.1', userAgent: 'writer' },
                  details: { writer: w, seq: written + i },
                },
                Date.now(),
              );
            }
            if (hold) {
              heldOpen += 1;
              await sleep(20 + Math.random() * 150);
            }
          });
          written += batch;
          await sleep(Math.random() * 4);
        }
      }

      async function httpWriter(w: number) {
        // Failed logins through both nodes: events written by the API itself.
        for (let i = 0; i < PER_WRITER; i++) {
          const node = nodes[i % nodes.length]!;
          const res = await http(node, 'POST', '/api/auth/login', {
            body: { username: `nobody${w}`, password: 'wrong' },
          });
          expect(res.status).toBe(401);
        }
      }

      const writers = Array.from({ length: WRITERS }, (_, w) =>
        (w < WRITERS - 2 ? directWriter(w) : httpWriter(w)).finally(() => {
          running -= 1;
        }),
      );

      const seen: string[] = [];
      let cursor: string | undefined;
      let polls = 0;
      let retries = 0;
      const pollOnce = async () => {
        const node = nodes[polls % nodes.length]!;
        polls += 1;
        const limit = 1 + Math.floor(Math.random() * 250);
        let res = await poll(node, key, { cursor, limit });
        if (Math.random() < 0.2) {
          // The response was "lost": ask again with the same cursor (on the other node) and use that one.
          retries += 1;
          res = await poll(nodes[polls % nodes.length]!, key, { cursor, limit });
        }
        expect(res.status).toBe(200);
        seen.push(...res.body.Events.map((e) => e.Id as string));
        cursor = res.body.NextCursor;
        return res.body.HasMore;
      };
      while (running > 0) {
        await pollOnce();
        await sleep(Math.random() * 10);
      }
      await Promise.all(writers);
      while (await pollOnce());

      const expected = await allFeedIds(writerDb, tenantId);
      const seenSet = new Set(seen);
      const missing = expected.filter((id) => !seenSet.has(id));
      const duplicates = seen.length - seenSet.size;
      console.log(
        `[exactly-once ${kind}] nodes=${nodes.length} writers=${WRITERS} events=${expected.length} polls=${polls} retries=${retries} heldOpen=${heldOpen} missing=${missing.length} duplicates=${duplicates}`,
      );
      expect(expected.length).toBeGreaterThanOrEqual(2000);
      if (holdOpen) expect(heldOpen).toBeGreaterThan(50);
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      expect(seen.filter((id) => !expected.includes(id))).toEqual([]);
    }, 180_000);

    it('does not pass a row whose id was drawn before its transaction had an xid (nextval trap)', async () => {
      // Only PostgreSQL hands out ids and xids independently; SQLite's single writer cannot reorder them.
      if (!writerDb.dialect.concurrentWriters) {
        expect(writerDb.dialect.kind).toBe('sqlite');
        return;
      }
      const tenantId = await nodes[0]!.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(nodes[0]!, await login(nodes[0]!));
      const start = (await drain(nodes[0]!, key)).cursor;
      let earlyId = 0;
      let trapped: Promise<void> = Promise.resolve();
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let drawn!: () => void;
      const idDrawn = new Promise<void>((r) => (drawn = r));
      trapped = writerDb.db.transaction().execute(async (trx) => {
        // Draw the id first: nextval does not give this transaction an xid yet.
        const row = await sql<{ id: number }>`select nextval('logs_access_id_seq') as id`.execute(trx);
        earlyId = Number(row.rows[0]!.id);
        drawn();
        await released;
        await sql`insert into logs_access (id, tenant_id, created_at, event_type, severity, outcome, details)
                  values (${earlyId}, ${tenantId}, ${Date.now()}, 'Access.Object', 'info', 'success', '{"trap":true}')`.execute(
          trx,
        );
      });
      await idDrawn;
      // A later writer takes a higher id and an xid and commits first.
      await appendEvent(
        writerDb.db,
        tenantId,
        {
          eventType: 'Access.Object',
          outcome: 'success',
          actor: { userId: 1, username: 'late', ip: null, userAgent: null },
        },
        Date.now(),
      );
      const before = await poll(nodes[1]!, key, { cursor: start });
      expect(before.body.Events.map((e) => e.Actor.Username)).toContain('late');
      release();
      await trapped;
      const after = await drain(nodes[0]!, key, { cursor: before.body.NextCursor });
      expect(after.events.map((e) => e.Id)).toContain(`LogsAccess:${earlyId}`);
    });
  });
}
