/**
 * The visibility horizon in the field (SPEC §3, issue "Field-ready feed core"): per database, observable,
 * and seeks instead of scans.
 *
 * - A transaction held open in another database of the same server never holds this feed back
 *   (PostgreSQL: a sibling database; SQLite: a write transaction on another file).
 * - One held open in this database delays events committed after it, then they arrive exactly once;
 *   meanwhile /metrics, /readyz and the log name it (PostgreSQL only: SQLite has one writer, so a held
 *   write transaction blocks the writer instead of delaying the reader).
 * - A first poll with `since` over more older rows than one poll may scan returns the new event at once,
 *   and a table the filter excludes (the poll log in the default feed) is jumped, not scanned.
 */
import SQLite from 'better-sqlite3';
import crypto from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventTableName } from '../src/db/schema.js';
import { buildKey, drain, http, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, adminDatabaseUrl, createTestDatabase, type TestDatabase } from './stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writeFailure(server: TestServer, username: string) {
  const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
  await appendEvent(
    server.database.db,
    tenantId,
    {
      eventType: 'Login.Failure',
      outcome: 'failure',
      actor: { userId: null, username, ip: '10.9.9.9', userAgent: 'horizon-test' },
    },
    Date.now(),
  );
}

/** Inserts `count` old rows straight into one table, in batches (the same SQL on both stores). */
async function bulkInsert(
  server: TestServer,
  table: EventTableName,
  eventType: string,
  count: number,
  at: number,
) {
  const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
  for (let done = 0; done < count; done += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
      tenant_id: tenantId,
      created_at: at + done + i,
      event_type: eventType,
      severity: 'info',
      outcome: 'success',
      username: 'bulk',
      details: '{}',
    }));
    await server.database.db.insertInto(table).values(rows).execute();
  }
}

/** A session in a database of its own (PostgreSQL) holding a transaction with an xid open. */
async function holdOpenElsewhere(kind: string, dataDir: string) {
  if (kind === 'postgres') {
    const name = `itp_other_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(adminDatabaseUrl());
    url.pathname = `/${name}`;
    const other = new pg.Client({ connectionString: url.toString(), application_name: 'neighbour' });
    await other.connect();
    await other.query('begin');
    await other.query('select pg_current_xact_id()');
    return async () => {
      await other.query('commit').catch(() => undefined);
      await other.end().catch(() => undefined);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const other = new SQLite(path.join(dataDir, 'neighbour.db'));
  other.exec('create table t (x integer)');
  other.exec('begin immediate');
  other.exec('insert into t values (1)');
  return async () => {
    other.exec('commit');
    other.close();
  };
}

/** Rows of a backlog: more than one sequencer batch, more than any page. */
const BACKLOG = 60_000;

for (const kind of STORES) {
  describe(`feed horizon on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { FEED_HORIZON_WARN_SECONDS: '1', SIEM_READ_AHEAD: 'false' });
      key = (await buildKey(server, await login(server))).key;
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('is not held back by a transaction open in another database', async () => {
      const start = (await drain(server, key)).cursor;
      const release = await holdOpenElsewhere(kind, testDb.env.DATA_DIR!);
      try {
        const written = Date.now();
        await writeFailure(server, 'elsewhere');
        let found = false;
        while (!found && Date.now() - written < 1000) {
          const page = await poll(server, key, { cursor: start });
          found = page.body.Events.some((e) => e.Actor.Username === 'elsewhere');
          if (!found) await sleep(50);
        }
        expect(found, 'the new event reached the feed within 1 s').toBe(true);
        const status = await http(server, 'GET', '/readyz');
        expect(status.body.horizon).toEqual({ heldSeconds: 0, holder: null });
      } finally {
        await release();
      }
    });

    it('is delayed by a transaction open in this database, names it, then delivers exactly once', async () => {
      if (kind === 'sqlite') {
        // One writer: a held write transaction would block writeFailure, not delay the feed.
        expect(server.database.dialect.concurrentWriters).toBe(false);
        return;
      }
      const start = (await drain(server, key)).cursor;
      const held = new pg.Client({
        connectionString: testDb.env.DATABASE_URL,
        application_name: 'held-open',
      });
      await held.connect();
      try {
        await held.query('begin');
        await held.query('select pg_current_xact_id()');
        const pid = (await held.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        await writeFailure(server, 'delayed');
        const during = await poll(server, key, { cursor: start });
        expect(during.status).toBe(200);
        expect(during.body.Events.map((e) => e.Actor.Username)).not.toContain('delayed');
        expect(during.body.HasMore).toBe(false);

        await sleep(1600);
        const metrics = await http(server, 'GET', '/metrics');
        const gauge = /^itportal_feed_horizon_held_seconds (\S+)$/m.exec(metrics.text);
        expect(Number(gauge?.[1])).toBeGreaterThanOrEqual(1);
        const ready = await http(server, 'GET', '/readyz');
        expect(ready.status).toBe(200);
        expect(ready.body.status).toBe('ready');
        expect(ready.body.horizon.heldSeconds).toBeGreaterThanOrEqual(1);
        expect(ready.body.horizon.holder).toMatchObject({
          pid,
          applicationName: 'held-open',
          state: 'idle in transaction',
          prepared: false,
        });
        const warning = server.logs.find((l) => l.includes('held back') && l.includes(`pid ${pid}`));
        expect(warning, 'a warning names the holder').toBeDefined();
        expect(JSON.parse(warning!).level).toBe(40);

        await held.query('commit');
        const after = await drain(server, key, { cursor: during.body.NextCursor });
        expect(after.events.filter((e) => e.Actor.Username === 'delayed')).toHaveLength(1);
        const again = await drain(server, key, { cursor: after.cursor });
        expect(again.events).toHaveLength(0);
      } finally {
        await held.end().catch(() => undefined);
      }
    });

    it('seeks to since: a first poll over a large sequenced backlog returns only the new event', async () => {
      const old = Date.now() - 86_400_000;
      await bulkInsert(server, 'logs_access', 'Access.Object', BACKLOG, old);
      const since = new Date(Date.now() + 2).toISOString();
      await sleep(10);
      await writeFailure(server, 'after-since');
      // The sequencer's work (once per event, in the background); the poll's is one index probe.
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      await server.ctx.sequencer.catchUp(tenantId, 'trail');
      const first = await poll(server, key, { since });
      expect(first.status).toBe(200);
      expect(first.body.Events.map((e) => e.Actor.Username)).toEqual(['after-since']);
      expect(first.body.HasMore).toBe(false);
      // And the chain it starts continues from there: nothing older, nothing twice.
      await writeFailure(server, 'next');
      const next = await drain(server, key, { cursor: first.body.NextCursor });
      expect(next.events.map((e) => e.Actor.Username)).toEqual(['next']);
    }, 120_000);

    it('keeps the poll log out of the trail: a backlog of poll records costs the default feed nothing', async () => {
      const start = (await drain(server, key)).cursor;
      await bulkInsert(server, 'logs_siem_poll', 'Audit.SiemPoll', BACKLOG, Date.now() - 60_000);
      await writeFailure(server, 'past-the-poll-log');
      const page = await poll(server, key, { cursor: start });
      expect(page.body.Events.map((e) => e.Actor.Username)).toEqual(['past-the-poll-log']);
      expect(page.body.HasMore).toBe(false);
      // Asked for by name, the poll log is all there, in a chain of its own.
      const polls = await poll(server, key, { eventType: 'Audit.SiemPoll', limit: 5000 });
      expect(polls.body.Events.length).toBeGreaterThan(0);
      expect(polls.body.Events.every((e) => e.EventType === 'Audit.SiemPoll')).toBe(true);
    }, 120_000);
  });
}
