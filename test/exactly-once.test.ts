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
import { SEQUENCER_APPLICATION_NAME } from '../src/db/dialect.js';
import { openDatabase } from '../src/db/connect.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import { createLogStore } from '../src/modules/log/log-store.js';
import { createSequencer } from '../src/modules/log/sequencer.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { buildKey, drain, http, login, poll } from './factories.js';
import { openTestDatabase, startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

/** Thrown to roll a draw back when nextval gave its transaction an xid. */
class RetryDraw extends Error {}

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

async function readAheadServed(node: TestServer): Promise<number> {
  const metric = await node.ctx.metrics.readAhead.get();
  return metric.values.find((v) => v.labels.outcome === 'served')?.value ?? 0;
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

    /** 16 writers (14 direct, some holding their transaction open; 2 over HTTP through every node). */
    function startWriters(tenantId: number, PER_WRITER = 130) {
      const holdOpen = writerDb.dialect.concurrentWriters;
      const WRITERS = 16;
      const state = { running: WRITERS, heldOpen: 0, writers: WRITERS, holdOpen };

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
              state.heldOpen += 1;
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

      const done = Promise.all(
        Array.from({ length: WRITERS }, (_, w) =>
          (w < WRITERS - 2 ? directWriter(w) : httpWriter(w)).finally(() => {
            state.running -= 1;
          }),
        ),
      );
      return { state, done };
    }

    /** The trail as delivered, in order: Seq 0, 1, …, N−1, N the number of events in the source tables. */
    async function checkSeqs(tenantId: number, delivered: Array<Record<string, any>>) {
      const n = (await allFeedIds(writerDb, tenantId)).length;
      const seqs = delivered.map((e) => e.Seq as number);
      const firstBad = seqs.findIndex((s, i) => s !== i);
      expect(firstBad, `delivered Seq ${seqs[firstBad]} at position ${firstBad}`).toBe(-1);
      expect(seqs.length).toBe(n);
      const head = await writerDb.db
        .selectFrom('log_heads')
        .select('size')
        .where('tenant_id', '=', tenantId)
        .where('log', '=', 0)
        .executeTakeFirstOrThrow();
      expect(Number(head.size)).toBe(n);
    }

    async function checkExactlyOnce(label: string, tenantId: number, seen: string[], extra: string) {
      const expected = await allFeedIds(writerDb, tenantId);
      const seenSet = new Set(seen);
      const missing = expected.filter((id) => !seenSet.has(id));
      const duplicates = seen.length - seenSet.size;
      console.log(
        `[${label} ${kind}] events=${expected.length} ${extra} missing=${missing.length} duplicates=${duplicates}`,
      );
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      expect(seen.filter((id) => !expected.includes(id))).toEqual([]);
      return expected.length;
    }

    it('delivers every event exactly once under concurrent writers, two nodes and retried pages', async () => {
      const tenantId = await nodes[0]!.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(nodes[0]!, await login(nodes[0]!));
      const start = await drain(nodes[0]!, key);
      const { state, done } = startWriters(tenantId);

      const seen: string[] = [];
      const delivered: Array<Record<string, any>> = [...start.events];
      let cursor: string | undefined = start.cursor;
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
        delivered.push(...res.body.Events);
        cursor = res.body.NextCursor;
        return res.body.HasMore;
      };
      while (state.running > 0) {
        await pollOnce();
        await sleep(Math.random() * 10);
      }
      await done;
      while (await pollOnce());

      const before = new Set(start.events.map((e) => e.Id as string));
      const total = await checkExactlyOnce(
        'exactly-once',
        tenantId,
        [...before, ...seen],
        `nodes=${nodes.length} writers=${state.writers} polls=${polls} retries=${retries} heldOpen=${state.heldOpen}`,
      );
      expect(total).toBeGreaterThanOrEqual(2000);
      if (state.holdOpen) expect(state.heldOpen).toBeGreaterThan(50);
      await checkSeqs(tenantId, delivered);
    }, 180_000);

    it('gives Seq 0..N−1 each exactly once while a competing sequencer is killed mid-batch', async () => {
      // A third sequencer (besides each node's) takes small batches and is killed after its writes,
      // before its commit: on PostgreSQL its backend is terminated from another connection; on SQLite
      // the batch throws. Nothing it wrote may survive, nothing may be skipped.
      const tenantId = await nodes[0]!.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(nodes[0]!, await login(nodes[0]!));
      const start = await drain(nodes[0]!, key);
      const killerDb = writerDb.dialect.concurrentWriters
        ? openDatabase({
            databaseUrl: testDb.env.DATABASE_URL,
            dataDir: testDb.env.DATA_DIR!,
            poolSize: 2,
            applicationName: SEQUENCER_APPLICATION_NAME,
          })
        : writerDb;
      let kills = 0;
      let committed = 0;
      const killer = createSequencer({
        database: killerDb,
        store: createLogStore(killerDb),
        clock: { now: () => Date.now() },
        batchSize: 7,
        beforeCommit: async (_tenant, _log, trx) => {
          if (Math.random() < 0.5) return;
          kills += 1;
          if (!killerDb.dialect.concurrentWriters) throw new Error('killed');
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(writerDb.db);
        },
      });
      const { state, done } = startWriters(tenantId, 60);
      const killing = (async () => {
        while (state.running > 0) {
          await killer
            .runBatch(tenantId, 'trail')
            .then((r) => (committed += r.appended))
            .catch(() => undefined);
          await sleep(Math.random() * 5);
        }
      })();
      const delivered: Array<Record<string, any>> = [...start.events];
      let cursor: string | undefined = start.cursor;
      let polls = 0;
      const pollOnce = async () => {
        const res = await poll(nodes[polls++ % nodes.length]!, key, { cursor, limit: 100 });
        expect(res.status).toBe(200);
        delivered.push(...res.body.Events);
        cursor = res.body.NextCursor;
        return res.body.HasMore;
      };
      try {
        while (state.running > 0) {
          await pollOnce();
          await sleep(Math.random() * 10);
        }
        await done;
        await killing;
        while (await pollOnce());
      } finally {
        if (killerDb !== writerDb) await killerDb.close();
      }
      console.log(
        `[sequencer-kill ${kind}] events=${delivered.length} kills=${kills} batchesCommittedByTheKiller=${committed} polls=${polls}`,
      );
      expect(kills).toBeGreaterThanOrEqual(10);
      await checkExactlyOnce(
        'sequencer-kill',
        tenantId,
        delivered.map((e) => e.Id as string),
        `kills=${kills}`,
      );
      await checkSeqs(tenantId, delivered);
    }, 180_000);

    it('delivers every event exactly once to a sequential poller answered from read-ahead', async () => {
      // One node, one limit, no pause between pages while HasMore: the poller a read-ahead serves.
      // Pages are prepared while writers commit; some are retried (answered afresh, not from the chain).
      const node = nodes[nodes.length - 1]!;
      const tenantId = await node.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(node, await login(node));
      const start = await drain(node, key);
      const servedBefore = await readAheadServed(node);
      const { state, done } = startWriters(tenantId);
      const seen: string[] = [];
      const delivered: Array<Record<string, any>> = [...start.events];
      let cursor: string | undefined = start.cursor;
      let polls = 0;
      let retries = 0;
      const pollOnce = async () => {
        polls += 1;
        let res = await poll(node, key, { cursor, limit: 5 });
        if (Math.random() < 0.1) {
          retries += 1;
          res = await poll(node, key, { cursor, limit: 5 });
        }
        expect(res.status).toBe(200);
        seen.push(...res.body.Events.map((e) => e.Id as string));
        delivered.push(...res.body.Events);
        cursor = res.body.NextCursor;
        return res.body.HasMore;
      };
      while (state.running > 0) {
        while (await pollOnce());
        // A backlog of a few pages builds up between drains.
        await sleep(50 + Math.random() * 100);
      }
      await done;
      while (await pollOnce());
      const served = (await readAheadServed(node)) - servedBefore;
      const before = new Set(start.events.map((e) => e.Id as string));
      await checkExactlyOnce(
        'read-ahead',
        tenantId,
        [...before, ...seen],
        `polls=${polls} retries=${retries} servedFromReadAhead=${served} heldOpen=${state.heldOpen}`,
      );
      expect(served).toBeGreaterThan(50);
      await checkSeqs(tenantId, delivered);
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
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let drawn!: () => void;
      const idDrawn = new Promise<void>((r) => (drawn = r));
      // Draw the id first, in a transaction that has no xid yet. nextval assigns one whenever it writes
      // WAL (every 32 values, or after a checkpoint), so draw again in a fresh transaction until it did not.
      const trapped = (async () => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const done = await writerDb.db
            .transaction()
            .execute(async (trx) => {
              const row = await sql<{
                id: number;
                xid: string | null;
              }>`select nextval('logs_access_id_seq') as id,
                pg_current_xact_id_if_assigned()::text as xid`.execute(trx);
              if (row.rows[0]!.xid !== null) throw new RetryDraw();
              earlyId = Number(row.rows[0]!.id);
              drawn();
              await released;
              await sql`insert into logs_access (id, tenant_id, created_at, event_type, severity, outcome, details)
                  values (${earlyId}, ${tenantId}, ${Date.now()}, 'Access.Object', 'info', 'success', '{"trap":true}')`.execute(
                trx,
              );
              return true;
            })
            .catch((err: unknown) => {
              if (err instanceof RetryDraw) return false;
              throw err;
            });
          if (done) return;
        }
        throw new Error('nextval assigned an xid 100 times in a row');
      })();
      try {
        await Promise.race([idDrawn, trapped]);
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
      } finally {
        // Whatever failed above, the held transaction ends: it must never pin the server's horizon.
        release();
        await trapped.catch(() => undefined);
      }
    });
  });
}
