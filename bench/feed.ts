/**
 * SIEM feed benchmark on PostgreSQL: `npm run bench:feed` (or `npx tsx bench/feed.ts`).
 *
 * 1. Creates a fresh database `itp_bench_<random>`, migrates it, builds the real app in-process
 *    (buildApp, as test/harness.ts does) and seeds 1,000,000 events for the default tenant over 30 days:
 *    --seed=demo (default) with the product's own generator, fillDemo (`itportal demo`): users and
 *    resources through the services, then events in 10,000-event transactions (mix about
 *    login/access/admin/denied = 20/58/10/12 %); --seed=sql with one INSERT ... SELECT ... FROM
 *    generate_series per table per transaction (20/55/10/15 %), faster, for quick iterations.
 * 2. Starts the measured server as a process of its own (`node dist/main.js`, compiled first), so the
 *    bench's client work (gunzip, JSON.parse) does not share its event loop, logs in as admin over
 *    HTTP and issues a SIEM key.
 * 3. Cold, unvacuumed pages: 10 limit=5000 pages over HTTP (no gzip) read BEFORE any VACUUM, so that
 *    PostgreSQL sets hint bits (and plans without statistics) as a fresh database would: their p50.
 *    Then VACUUM ANALYZE; every later figure is on vacuumed tables.
 * 4. Page latency: limit=5000 pages over HTTP, no gzip, at cursors spread over the dataset: p50 / p90
 *    (after 10 warm-up pages; measured again after the drain, on a warm server).
 * 5. Drain: follows NextCursor from the start with gzip until HasMore is false: events/s, bytes.
 * 6. Plain read baseline: keyset `SELECT *` per table + JSON.stringify per page, with `pg` directly.
 * 7. Breakdown of one page's server-side cost, stage by stage as the route does it (the log's range
 *    read, readFeedPage, cursor, the page's bytes, gzip level 1) with a comparison line (the page built
 *    as one joined string, as before feed-body.ts pageBytes), every format's present + serialize, and
 *    EXPLAIN ANALYZE of the feed's range query.
 *
 * Options: --seed=demo|sql (default demo), --keep (do not drop the database), --events=N (default
 * 1000000), --pages=N (latency samples, default 40), --batches=N (--seed=sql transactions, default 20),
 * --pages-only (stop after the first page-latency pass: for quick iterations on a page's cost).
 * Environment: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test);
 * BENCH_SERVER_NODE_ARGS (node flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 * Prints readable lines and, last, one JSON summary line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { fillDemo } from '../src/cli/demo.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { SEQUENCER_APPLICATION_NAME } from '../src/db/dialect.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import { encodeCursor } from '../src/modules/feed/feed-cursor.js';
import { DEFAULT_FEED_TYPES, createFeedService } from '../src/modules/feed/feed-service.js';
import { createFeedStore } from '../src/modules/feed/feed-store.js';
import { wireOfLeaf } from '../src/modules/log/log-leaf.js';
import { pageBytes } from '../src/modules/feed/feed-body.js';
import { FORMAT_NAMES, PRESENTERS, type PresentContext } from '../src/modules/feed/presenters/index.js';
import { PRODUCT_VERSION } from '../src/version.js';
import { createLogStore, type LogStore } from '../src/modules/log/log-store.js';
import { createSequencer } from '../src/modules/log/sequencer.js';
import { createTenantStore } from '../src/modules/tenants/tenant-store.js';
import { FEED_TABLES, seedStatement } from './seed-sql.js';

// ---------------------------------------------------------------------------------------------
// Options

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  if (!hit) return fallback;
  const value = Number(hit.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const KEEP = args.includes('--keep');
/** Stop after the first page-latency pass (quick iterations on the page's cost; no drain, no ratio). */
const PAGES_ONLY = args.includes('--pages-only');
const SEED = (args.find((a) => a.startsWith('--seed='))?.slice('--seed='.length) ?? 'demo') as 'demo' | 'sql';
if (SEED !== 'demo' && SEED !== 'sql') throw new Error('--seed must be demo or sql');
const TOTAL_EVENTS = option('events', 1_000_000);
const LATENCY_PAGES = option('pages', 40);
const BATCHES = option('batches', 20);
const LIMIT = 5000;
const WARMUP_PAGES = 10;
/** Pages read before VACUUM ANALYZE, for the "cold, unvacuumed" p50. */
const COLD_PAGES = 10;
const SPAN_MS = 30 * 24 * 3600 * 1000;
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = { username: 'admin', password: 'bench-admin-password-long-enough' };
const TARGET_P50_MS = 25;
const TARGET_RATIO = 0.6;
/** Commit-to-feed section: writers, and how long they write. */
const DELAY_WRITERS = 16;
const DELAY_MS = option('delay-seconds', 10) * 1000;

/** The four tables seeded (poll records, logs_siem_poll, are not in the default feed). */

// ---------------------------------------------------------------------------------------------
// Small helpers

const now = () => performance.now();
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MiB`;
function line(label: string, value: string) {
  console.log(`${label.padEnd(34)} ${value}`);
}
function section(title: string) {
  console.log(`\n== ${title}`);
}
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
const median = (values: number[]) => percentile(values, 50);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as received on the wire (compressed when the server gzipped it). */
  raw: Buffer;
  /** Response header bytes, approximately (status line + headers). */
  headerBytes: number;
  ms: number;
}

/** A GET over node:http, so that what arrives is what was sent (fetch would decompress silently). */
function get(agent: http.Agent, url: string, headers: Record<string, string>): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const started = now();
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headerBytes =
          `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length +
          res.rawHeaders.reduce((n, h) => n + h.length + 2, 0) +
          2;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          raw: Buffer.concat(chunks),
          headerBytes,
          ms: now() - started,
        });
      });
    });
    req.on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface FeedBody {
  Events: unknown[];
  NextCursor: string;
  HasMore: boolean;
}

function decodeBody(res: HttpResponse): FeedBody {
  const text = (res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(res.raw) : res.raw).toString(
    'utf8',
  );
  if (res.status !== 200) throw new Error(`feed answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as FeedBody;
}

// ---------------------------------------------------------------------------------------------
// Seeding: one INSERT ... SELECT ... FROM generate_series per table per batch.

/** --seed=sql: BATCHES transactions of one INSERT ... SELECT per table. No VACUUM here (see main). */
async function seedSql(url: string, tenantId: number, t0: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const perBatch = Math.ceil(TOTAL_EVENTS / BATCHES);
    const step = SPAN_MS / TOTAL_EVENTS;
    for (let b = 0; b < BATCHES; b++) {
      const lo = b * perBatch;
      const hi = Math.min(TOTAL_EVENTS, lo + perBatch) - 1;
      if (hi < lo) break;
      await client.query('begin');
      for (const table of FEED_TABLES) {
        await client.query(seedStatement(table), [tenantId, t0, step, lo, hi]);
      }
      await client.query('commit');
      process.stdout.write(`\r  seeded batch ${b + 1}/${BATCHES}`);
    }
    process.stdout.write('\n');
  } finally {
    await client.end();
  }
}

/** VACUUM (ANALYZE) of the database, then what the seeded tables hold (read only after the vacuum). */
async function vacuumAndDescribe(url: string, tenantId: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const vacuumStarted = now();
    await client.query('vacuum (analyze)');
    const vacuumMs = now() - vacuumStarted;
    const counts: Record<string, number> = {};
    for (const table of FEED_TABLES) {
      const r = await client.query(`select count(*)::int as n from ${table} where tenant_id = $1`, [
        tenantId,
      ]);
      counts[table] = r.rows[0].n as number;
    }
    const size = await client.query(
      `select sum(pg_total_relation_size(c))::bigint as bytes from unnest($1::regclass[]) c`,
      [FEED_TABLES],
    );
    const txids = await client.query(
      `select count(distinct txid)::int as n from (${FEED_TABLES.map((t) => `select txid from ${t}`).join(' union all ')}) x`,
    );
    return {
      vacuumMs,
      counts,
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      bytes: Number(size.rows[0].bytes),
      txids: txids.rows[0].n as number,
    };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Plain read baseline: keyset SELECT * per table, each page JSON.stringify-ed.

async function plainRead(url: string, tenantId: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let events = 0;
  let bytes = 0;
  const started = now();
  for (const table of FEED_TABLES) {
    let after = '0';
    for (;;) {
      const r = await client.query(
        `select * from ${table} where tenant_id = $1 and id > $2 order by id limit ${LIMIT}`,
        [tenantId, after],
      );
      bytes += JSON.stringify(r.rows).length;
      events += r.rows.length;
      if (r.rows.length < LIMIT) break;
      after = String(r.rows[r.rows.length - 1].id);
    }
  }
  const ms = now() - started;
  await client.end();
  return { events, ms, bytes, eventsPerSec: events / (ms / 1000) };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const cpus = os.cpus();
  const name = `itp_bench_${crypto.randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-bench-'));
  const summary: Record<string, unknown> = {};

  section('Machine');
  const versionClient = new pg.Client({ connectionString: ADMIN_URL });
  await versionClient.connect();
  const pgVersion = (await versionClient.query('show server_version')).rows[0].server_version as string;
  const pgSettings = (
    await versionClient.query(
      `select name, setting, unit from pg_settings where name in ('shared_buffers', 'work_mem', 'jit', 'autovacuum')`,
    )
  ).rows as { name: string; setting: string; unit: string | null }[];
  await versionClient.end();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: pgVersion,
  };
  summary.machine = machine;
  summary.loadAverageAtStart = os.loadavg().map((n) => round(n, 2));
  line('CPUs', `${machine.cpus} x ${machine.cpuModel}`);
  line('Memory', `${machine.memoryGiB} GiB`);
  line('OS', machine.os);
  line('Node', machine.node);
  line('PostgreSQL', machine.postgres);
  line(
    'PostgreSQL settings',
    pgSettings.map((s) => `${s.name}=${s.setting}${s.unit ? ` ${s.unit}` : ''}`).join(', '),
  );
  line(
    'Load average (1/5/15 min)',
    os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' / '),
  );
  line('Database', `${name}${KEEP ? ' (kept: --keep)' : ' (dropped at the end)'}`);

  await adminQuery(`create database ${name}`);
  let closeServer: (() => Promise<void>) | null = null;
  try {
    // ---------------------------------------------------------------------------------------
    section('Server (in-process, as test/harness.ts)');
    const database = openDatabase({ databaseUrl: url, dataDir, poolSize: 20 });
    closeServer = () => database.close();
    await migrateToLatest(database);
    const tenantId = await createTenantStore(database.db).defaultTenantId(Date.now());
    const config = loadConfig({
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // The config accepts at most 100000; the bench polls a few hundred times.
      SIEM_RATE_LIMIT_PER_MINUTE: '100000',
    });
    const { app, ctx } = await buildApp({ config, database, logger: false });
    // This app only seeds and profiles: its scheduler would sequence the seed while it is written
    // and share the work below; the sequencer section measures one sequencer alone.
    await ctx.sequencing.stop();
    closeServer = async () => {
      await app.close();
      await database.close();
    };
    // Before the seed: ensureFirstAdmin does nothing once the demo has created its users.
    await ctx.users.ensureFirstAdmin(tenantId, ADMIN.username, ADMIN.password);
    line('App', 'buildApp (its ctx also seeds, for --seed=demo)');

    // ---------------------------------------------------------------------------------------
    let t0: number;
    let seedMs: number;
    let demoBatchRate: number | null = null;
    if (SEED === 'demo') {
      section(
        `Seed (--seed=demo): ${fmt(TOTAL_EVENTS)} events with fillDemo (itportal demo), ${SPAN_MS / 86_400_000} days`,
      );
      let firstBatch: { done: number; at: number } | null = null;
      let lastBatchAt = 0;
      let lastDecile = -1;
      const started = now();
      await fillDemo(ctx, tenantId, { events: TOTAL_EVENTS, days: SPAN_MS / 86_400_000 }, (done, total) => {
        lastBatchAt = now();
        firstBatch ??= { done, at: lastBatchAt };
        const decile = Math.floor((10 * done) / total);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stdout.write(`\r  demo: ${fmt(done)} / ${fmt(total)} events`);
        }
      });
      process.stdout.write('\n');
      seedMs = now() - started;
      const first = firstBatch as { done: number; at: number } | null;
      if (first && lastBatchAt > first.at) {
        demoBatchRate = (TOTAL_EVENTS - first.done) / ((lastBatchAt - first.at) / 1000);
      }
      // The demo spreads its events evenly over [now - days, now]: the span starts at the earliest.
      const earliest = await sql<{ t: string }>`select least(${sql.raw(
        FEED_TABLES.map(
          (t) => `(select min(created_at) from ${t} where tenant_id = ${Number(tenantId)})`,
        ).join(', '),
      )})::text as t`.execute(database.db);
      t0 = Number(earliest.rows[0]!.t);
    } else {
      section(`Seed (--seed=sql): ${fmt(TOTAL_EVENTS)} events in ${BATCHES} transactions (generate_series)`);
      t0 = Date.now() - SPAN_MS - 60_000;
      const started = now();
      await seedSql(url, tenantId, t0);
      seedMs = now() - started;
    }
    const seedRate = TOTAL_EVENTS / (seedMs / 1000);
    line('Seeded', `${fmt(TOTAL_EVENTS)} events in ${fmt(seedMs / 1000, 1)} s`);
    line(
      '  rate',
      `${fmt(seedRate)} events/s${SEED === 'demo' ? ' (fillDemo as a whole, users and resources included)' : ''}`,
    );
    if (demoBatchRate !== null) {
      line('  rate, event transactions only', `${fmt(demoBatchRate)} events/s (after the first)`);
    }

    // ---------------------------------------------------------------------------------------
    section('Sequencer: every seeded event gets its Seq (one tenant, batches of 5,000)');
    {
      const logStore = createLogStore(database);
      const seqDb = openDatabase({
        databaseUrl: url,
        dataDir,
        poolSize: 2,
        applicationName: SEQUENCER_APPLICATION_NAME,
      });
      const sequencer = createSequencer({
        database: seqDb,
        store: logStore,
        clock: { now: () => Date.now() },
      });
      const before = (await logStore.readHead(Number(tenantId), 0)).size;
      const started = now();
      for (;;) {
        const r = await sequencer.catchUp(Number(tenantId), 'trail', 1_000_000);
        if (!r.more) break;
      }
      const ms = now() - started;
      const appended = (await logStore.readHead(Number(tenantId), 0)).size - before;
      line('  already sequenced before (the app, while seeding)', fmt(before));
      await seqDb.close();
      line(
        'Sequenced',
        `${fmt(appended)} events in ${fmt(ms / 1000, 1)} s = ${fmt(appended / (ms / 1000))} events/s`,
      );
      summary.sequencer = {
        events: appended,
        seconds: round(ms / 1000, 1),
        eventsPerSecond: Math.round(appended / (ms / 1000)),
      };
      const size = await sql<{ table: string; bytes: string }>`select c.relname as table,
          pg_total_relation_size(c.oid)::text as bytes from pg_class c
          where c.relname in ('log_entries', 'log_nodes', 'log_heads') and c.relkind = 'r'`.execute(
        database.db,
      );
      let total = 0;
      for (const r of size.rows) {
        total += Number(r.bytes);
        line(`  ${r.table} (with indexes)`, `${fmt(Number(r.bytes) / 1e6, 1)} MB`);
      }
      const sequencedTotal = Math.max(1, before + appended);
      line('  log bytes per event', fmt(total / sequencedTotal, 0));
      summary.logBytesPerEvent = Math.round(total / sequencedTotal);
    }

    // ---------------------------------------------------------------------------------------
    section('Server process, log in, issue a SIEM key');
    // The measured server runs in a process of its own (`node dist/main.js`, as `npm start` does), so
    // the bench's client (gunzip + JSON.parse of every page) does not share its event loop, as a SIEM
    // would not. The in-process app above only seeds and profiles.
    // Compile the server as it is now (dist/ may be older than the sources being measured).
    const built = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)),
        '-p',
        'tsconfig.build.json',
      ],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: 'inherit',
      },
    );
    if (built.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
    const port = await freePort();
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...serverNodeArgs, fileURLToPath(new URL('../dist/main.js', import.meta.url))],
      {
        env: {
          ...process.env,
          DATABASE_URL: url,
          DATA_DIR: dataDir,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          SIEM_RATE_LIMIT_PER_MINUTE: '100000',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const previousClose = closeServer;
    closeServer = async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await previousClose?.();
    };
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('IT Portal is listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out.slice(0, 500)}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const loginRes = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    if (loginRes.status !== 200) throw new Error(`login failed: ${loginRes.status} ${await loginRes.text()}`);
    const cookie = (loginRes.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { csrfToken } = (await loginRes.json()) as { csrfToken: string };
    const keyRes = await fetch(`${base}/api/admin/siem/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ description: 'bench SIEM', allowedCidrs: '' }),
    });
    if (keyRes.status !== 201) throw new Error(`issue key failed: ${keyRes.status} ${await keyRes.text()}`);
    const { key } = (await keyRes.json()) as { key: string };
    line('Listening', base);
    line('SIEM key', 'issued over HTTP (POST /api/admin/siem/keys)');

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const feedUrl = (cursor: string | null) =>
      `${base}/api/siem/events?limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`;
    const auth = { authorization: `ApiKey ${key}`, 'user-agent': 'itp-bench/1' };
    const identity = { ...auth, 'accept-encoding': 'identity' };

    // Cursors as the feed itself would issue them: the first Seq at or after T (one index probe).
    const benchLog = createLogStore(database);
    async function cursorAt(t: number): Promise<string> {
      const next = (await benchLog.firstSeqSince(Number(tenantId), 0, Math.round(t))) ?? 0;
      return encodeCursor({ v: 2, log: 'trail', next, since: null }, ctx.cursorKey, Number(tenantId));
    }

    // ---------------------------------------------------------------------------------------
    // Nothing has read the seeded rows yet: the first read of each heap page sets its hint bits (and
    // the planner has no statistics), which a fresh database pays once, until VACUUM ANALYZE.
    section(`Cold, unvacuumed: ${COLD_PAGES} pages of limit=${LIMIT}, no gzip, BEFORE VACUUM ANALYZE`);
    const autovacuumed = await sql<{ n: number }>`select count(*)::int as n from pg_stat_user_tables
      where relname in (${sql.join([...FEED_TABLES])})
        and (autovacuum_count > 0 or autoanalyze_count > 0)`.execute(database.db);
    const tablesAutovacuumed = Number(autovacuumed.rows[0]!.n);
    // One page from the very start (not counted) warms the route, the pool and the JIT; the cold
    // cursors start after it (at 1/11 of the span and beyond).
    decodeBody(await get(agent, feedUrl(null), identity));
    const coldMs: number[] = [];
    for (let i = 0; i < COLD_PAGES; i++) {
      const cursor = await cursorAt(t0 + ((i + 1) / (COLD_PAGES + 1)) * SPAN_MS);
      const res = await get(agent, feedUrl(cursor), identity);
      decodeBody(res);
      coldMs.push(res.ms);
    }
    const coldP50 = round(median(coldMs));
    line(
      'p50 (cold, unvacuumed)',
      `${fmt(coldP50, 1)} ms  (min / max ${fmt(Math.min(...coldMs), 1)} / ${fmt(Math.max(...coldMs), 1)} ms; 1 warm-up page first)`,
    );
    line('  autovacuum/analyze had visited', `${tablesAutovacuumed} of ${FEED_TABLES.length} feed tables`);
    summary.coldUnvacuumed = {
      pages: COLD_PAGES,
      p50Ms: coldP50,
      minMs: round(Math.min(...coldMs)),
      maxMs: round(Math.max(...coldMs)),
      tablesAutovacuumedBefore: tablesAutovacuumed,
    };

    // ---------------------------------------------------------------------------------------
    section('VACUUM ANALYZE');
    const described = await vacuumAndDescribe(url, tenantId);
    line('VACUUM (ANALYZE)', `RAN, ${fmt(described.vacuumMs / 1000, 1)} s: every figure below is after it`);
    // Setting up wrote events of its own (admin created, login, key issued; the demo's users and
    // resources): the drain must return every row of the four tables, these included.
    const expected = described.total;
    line(
      'Events in the feed tables',
      `${fmt(expected)} (seeded ${fmt(TOTAL_EVENTS)} + ${fmt(expected - TOTAL_EVENTS)} from the setup)`,
    );
    line(
      '  per table',
      FEED_TABLES.map(
        (t) => `${t}=${fmt(described.counts[t]!)} (${fmt((100 * described.counts[t]!) / expected, 1)} %)`,
      ).join(', '),
    );
    line('  distinct txids', String(described.txids));
    line('  size with indexes', mb(described.bytes));
    summary.seed = {
      mode: SEED,
      events: TOTAL_EVENTS,
      inFeedTables: expected,
      perTable: described.counts,
      seconds: round(seedMs / 1000, 2),
      eventsPerSec: Math.round(seedRate),
      ...(demoBatchRate !== null ? { eventTransactionsPerSec: Math.round(demoBatchRate) } : {}),
      vacuumAnalyzeSeconds: round(described.vacuumMs / 1000, 2),
      bytes: described.bytes,
      txids: described.txids,
    };

    // ---------------------------------------------------------------------------------------
    section(`Page latency: ${LATENCY_PAGES} pages of limit=${LIMIT}, no gzip, cursors spread over 30 days`);
    const cursors: string[] = [];
    for (let i = 0; i < LATENCY_PAGES; i++) {
      cursors.push(await cursorAt(t0 + ((i + 0.5) / LATENCY_PAGES) * SPAN_MS));
    }
    async function measureLatency() {
      const latencies: number[] = [];
      /** The server's own stages of each page, from its Server-Timing header (feed-routes.ts). */
      const stages = new Map<string, number[]>();
      let events = 0;
      let bytes = 0;
      for (const cursor of cursors) {
        const res = await get(agent, feedUrl(cursor), identity);
        if (res.headers['content-encoding']) throw new Error('expected an uncompressed response');
        const body = decodeBody(res);
        latencies.push(res.ms);
        for (const m of String(res.headers['server-timing'] ?? '').matchAll(/(\w+);dur=([\d.]+)/g)) {
          stages.set(m[1]!, [...(stages.get(m[1]!) ?? []), Number(m[2])]);
        }
        events += body.Events.length;
        bytes += res.raw.length;
      }
      const stats = {
        pages: latencies.length,
        p50Ms: round(median(latencies)),
        p90Ms: round(percentile(latencies, 90)),
        minMs: round(Math.min(...latencies)),
        maxMs: round(Math.max(...latencies)),
        avgEvents: Math.round(events / latencies.length),
        avgBytes: Math.round(bytes / latencies.length),
        serverStagesP50Ms: Object.fromEntries([...stages].map(([k, v]) => [k, round(median(v))])),
      };
      line('p50', `${fmt(stats.p50Ms, 1)} ms`);
      line(
        '  server stages p50 (Server-Timing)',
        [...stages].map(([k, v]) => `${k} ${fmt(median(v), 1)}`).join(', ') + ' ms',
      );
      line('p90', `${fmt(stats.p90Ms, 1)} ms`);
      line('min / max', `${fmt(stats.minMs, 1)} / ${fmt(stats.maxMs, 1)} ms`);
      line('events per page (avg)', fmt(stats.avgEvents));
      line('body per page (avg)', mb(stats.avgBytes));
      return stats;
    }
    // Warm-up (JIT, pools, buffers): a few pages not counted.
    for (let i = 0; i < WARMUP_PAGES; i++) {
      decodeBody(await get(agent, feedUrl(cursors[(i * 7) % cursors.length]!), identity));
    }
    line('warm-up pages (not counted)', String(WARMUP_PAGES));
    const latency1 = await measureLatency();
    const p50 = latency1.p50Ms;
    const p90 = latency1.p90Ms;
    summary.pageLatency = { limit: LIMIT, ...latency1 };
    if (PAGES_ONLY) {
      line('--pages-only', 'stopping here: no drain, plain read, breakdown or commit-to-feed delay');
      console.log(
        JSON.stringify({ bench: 'feed', pagesOnly: true, database: KEEP ? name : null, ...summary }),
      );
      agent.destroy();
      return;
    }

    // ---------------------------------------------------------------------------------------
    section('Plain read baseline (pass 1): keyset SELECT * per table + JSON.stringify per page');
    const plain1 = await plainRead(url, tenantId);
    line('events', fmt(plain1.events));
    line('time', `${fmt(plain1.ms / 1000, 2)} s`);
    line('throughput', `${fmt(plain1.eventsPerSec)} events/s`);

    // ---------------------------------------------------------------------------------------
    section(`Drain: follow NextCursor from the start, limit=${LIMIT}, accept-encoding: gzip`);
    const gzip = { ...auth, 'accept-encoding': 'gzip' };
    let cursor: string | null = null;
    let drained = 0;
    let pages = 0;
    let wireBody = 0;
    let wireHeaders = 0;
    let plainBytes = 0;
    let clientMs = 0;
    const pageMs: number[] = [];
    const drainStarted = now();
    for (;;) {
      const res = await get(agent, feedUrl(cursor), gzip);
      const clientStarted = now();
      if (res.headers['content-encoding'] !== 'gzip') throw new Error('expected a gzip response');
      const text = zlib.gunzipSync(res.raw);
      if (res.status !== 200)
        throw new Error(`feed answered ${res.status}: ${text.toString().slice(0, 300)}`);
      const body = JSON.parse(text.toString('utf8')) as FeedBody;
      clientMs += now() - clientStarted;
      pages += 1;
      drained += body.Events.length;
      wireBody += res.raw.length;
      wireHeaders += res.headerBytes;
      plainBytes += text.length;
      pageMs.push(res.ms);
      cursor = body.NextCursor;
      if (pages % 20 === 0) process.stdout.write(`\r  ${fmt(drained)} events, ${pages} pages`);
      if (!body.HasMore) break;
      if (pages > (TOTAL_EVENTS / LIMIT) * 4 + 100) throw new Error('drain did not finish');
    }
    process.stdout.write('\n');
    const drainMs = now() - drainStarted;
    const drainRate = drained / (drainMs / 1000);
    const serverSideRate = drained / ((drainMs - clientMs) / 1000);
    line(
      'events',
      `${fmt(drained)}${drained === expected ? ' (every event in the tables, once)' : ` (EXPECTED ${fmt(expected)}!)`}`,
    );
    line('pages', String(pages));
    line('total time', `${fmt(drainMs / 1000, 2)} s`);
    line('throughput', `${fmt(drainRate)} events/s`);
    line(
      '  of which client gunzip+parse',
      `${fmt(clientMs / 1000, 2)} s (excluding it: ${fmt(serverSideRate)} events/s)`,
    );
    line('page time p50 / p90 (gzip)', `${fmt(median(pageMs), 1)} / ${fmt(percentile(pageMs, 90), 1)} ms`);
    line('bytes on the wire (bodies)', `${mb(wireBody)} (${fmt(wireBody / drained, 1)} B/event)`);
    line('  + response headers', mb(wireHeaders));
    line(
      'uncompressed JSON',
      `${mb(plainBytes)} (${fmt(plainBytes / drained, 1)} B/event, gzip ${fmt(plainBytes / wireBody, 1)}x)`,
    );

    // ---------------------------------------------------------------------------------------
    section('Plain read baseline (pass 2, after the drain)');
    const plain2 = await plainRead(url, tenantId);
    line('events', fmt(plain2.events));
    line('time', `${fmt(plain2.ms / 1000, 2)} s`);
    line('throughput', `${fmt(plain2.eventsPerSec)} events/s`);
    const plainRate = Math.max(plain1.eventsPerSec, plain2.eventsPerSec);
    line('baseline used (faster pass)', `${fmt(plainRate)} events/s`);

    section('Page latency, pass 2 (same cursors, after the drain: a warm server)');
    const latency2 = await measureLatency();
    summary.pageLatencyPass2 = latency2;
    const ratio = drainRate / plainRate;

    summary.drain = {
      events: drained,
      complete: drained === expected,
      pages,
      seconds: round(drainMs / 1000, 2),
      eventsPerSec: Math.round(drainRate),
      clientSeconds: round(clientMs / 1000, 2),
      eventsPerSecExcludingClient: Math.round(serverSideRate),
      pageP50Ms: round(median(pageMs)),
      pageP90Ms: round(percentile(pageMs, 90)),
      wireBodyBytes: wireBody,
      wireHeaderBytes: wireHeaders,
      uncompressedBytes: plainBytes,
    };
    summary.plainRead = {
      events: plain2.events,
      pass1EventsPerSec: Math.round(plain1.eventsPerSec),
      pass2EventsPerSec: Math.round(plain2.eventsPerSec),
      eventsPerSec: Math.round(plainRate),
      jsonBytes: plain2.bytes,
    };

    // ---------------------------------------------------------------------------------------
    section('Breakdown of a page (server side, in-process, 10 cursors)');
    const breakdown = await profilePages(database, ctx.cursorKey, tenantId, t0);
    for (const [k, v] of Object.entries(breakdown.medians)) line(k, `${fmt(v, 1)} ms (median)`);
    line('store queries per page', fmt(breakdown.queriesPerPage, 1));
    line('rows read per 5000-event page', fmt(breakdown.scannedPerPage));
    summary.breakdownMedianMs = breakdown.medians;
    summary.breakdownPerPage = {
      queries: breakdown.queriesPerPage,
      rowsRead: breakdown.scannedPerPage,
    };

    section('EXPLAIN ANALYZE of the feed query (the log, mid-dataset Seq, 5000 rows)');
    const explain = await explainFeedQuery(url, tenantId, t0 + SPAN_MS / 2);
    for (const l of explain.plan) console.log(`  ${l}`);
    summary.explainAccessMs = explain.executionMs;

    // ---------------------------------------------------------------------------------------
    section(
      `Commit-to-feed delay: ${DELAY_WRITERS} concurrent writers for ${DELAY_MS / 1000} s, one poller following the feed`,
    );
    {
      // Writers commit straight to the database (as a portal node would), each event stamped just
      // before its INSERT; the poller follows the cursor from the head, polling again at once while
      // HasMore and every 10 ms otherwise. Delay = when a poll returned the event − its Timestamp, so
      // it includes the writer's commit, the horizon, the sequencer and the page.
      const writerDb = openDatabase({ databaseUrl: url, dataDir, poolSize: DELAY_WRITERS });
      const head = await benchLog.readHead(Number(tenantId), 0);
      let cursor = encodeCursor(
        { v: 2, log: 'trail', next: head.size, since: null },
        ctx.cursorKey,
        Number(tenantId),
      );
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const deadline = now() + DELAY_MS;
      let written = 0;
      const writers = Array.from({ length: DELAY_WRITERS }, async (_, w) => {
        while (now() < deadline) {
          await appendEvent(
            writerDb.db,
            Number(tenantId),
            {
              eventType: 'Access.Object',
              outcome: 'success',
              actor: { userId: w, username: `writer${w}`, ip: '10.0.0.1', userAgent: 'itp-bench' },
              details: { bench: 'delay', w },
            },
            Date.now(),
          );
          written += 1;
          await pause(Math.random() * 20);
        }
      });
      const delays: number[] = [];
      let writing = true;
      const done = Promise.all(writers).then(() => {
        writing = false;
      });
      for (;;) {
        const body = decodeBody(await get(agent, feedUrl(cursor), identity)) as FeedBody & {
          Events: Array<{ Timestamp: string; Details: { bench?: string } }>;
        };
        const at = Date.now();
        for (const e of body.Events)
          if (e.Details.bench === 'delay') delays.push(at - Date.parse(e.Timestamp));
        cursor = body.NextCursor;
        if (body.HasMore) continue;
        if (!writing && delays.length >= written) break;
        if (!writing && now() > deadline + 30_000)
          throw new Error(`only ${delays.length} of ${written} delivered after 30 s`);
        await pause(10);
      }
      await done;
      await writerDb.close();
      const d50 = percentile(delays, 50);
      const d99 = percentile(delays, 99);
      line('Events written / delivered', `${fmt(written)} / ${fmt(delays.length)}`);
      line('  write rate', `${fmt(written / (DELAY_MS / 1000))} events/s`);
      line('  delay p50 / p99 / max', `${fmt(d50, 1)} / ${fmt(d99, 1)} / ${fmt(Math.max(...delays), 1)} ms`);
      summary.commitToFeed = {
        writers: DELAY_WRITERS,
        written,
        delivered: delays.length,
        p50Ms: round(d50, 1),
        p99Ms: round(d99, 1),
        maxMs: round(Math.max(...delays), 1),
      };
    }

    // ---------------------------------------------------------------------------------------
    section('Result');
    const p50Met = p50 <= TARGET_P50_MS;
    const ratioMet = ratio >= TARGET_RATIO;
    line(
      'page p50 (no gzip)',
      `${fmt(p50, 1)} ms  target <= ${TARGET_P50_MS} ms: ${p50Met ? 'MET' : 'NOT MET'}`,
    );
    line('page p90 (no gzip)', `${fmt(p90, 1)} ms`);
    line('page p50, cold, unvacuumed', `${fmt(coldP50, 1)} ms  (${COLD_PAGES} pages before VACUUM ANALYZE)`);
    line('page p50 / p90, pass 2 (warm)', `${fmt(latency2.p50Ms, 1)} / ${fmt(latency2.p90Ms, 1)} ms`);
    line('feed drain (gzip)', `${fmt(drainRate)} events/s`);
    line('plain read', `${fmt(plainRate)} events/s`);
    line(
      'ratio drain / plain read',
      `${fmt(100 * ratio, 1)} %  target >= ${100 * TARGET_RATIO} %: ${ratioMet ? 'MET' : 'NOT MET'}`,
    );
    summary.ratio = round(ratio, 3);
    line(
      'Load average at the end',
      os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' / '),
    );
    summary.loadAverageAtEnd = os.loadavg().map((n) => round(n, 2));
    summary.targets = { pageP50Ms: TARGET_P50_MS, ratio: TARGET_RATIO, p50Met, ratioMet };

    agent.destroy();
  } finally {
    if (closeServer) await closeServer().catch(() => undefined);
    if (KEEP) {
      console.log(`\nDatabase kept: ${url}`);
    } else {
      await adminQuery(`drop database if exists ${name} with (force)`).catch((err: unknown) =>
        console.error(`could not drop ${name}:`, err),
      );
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'feed', database: KEEP ? name : null, ...summary }));
}

// ---------------------------------------------------------------------------------------------
// Profiling: where a page's time goes, measured with the service's own parts.

async function profilePages(
  database: ReturnType<typeof openDatabase>,
  cursorKey: Buffer,
  tenantId: number,
  t0: number,
) {
  const real = createLogStore(database);
  let storeMs = 0;
  let queries = 0;
  const timed: LogStore = {
    ...real,
    async readEntries(...a) {
      const started = now();
      const rows = await real.readEntries(...a);
      storeMs += now() - started;
      queries += 1;
      return rows;
    },
  };
  const none = { catchUp: async () => ({ appended: 0, more: false }) };
  const service = createFeedService({ store: createFeedStore(database), log: timed, sequencer: none });
  // The route's stages, in its order (feed-routes.ts).
  const STORE = 'log range read (one query)';
  const SERVICE = 'readFeedPage, wall time (head, range, root at the page end)';
  const CURSOR = 'cursor encode';
  const TEXT = 'page bytes (json): leaves with Category/Controls, written into one buffer';
  const JOINED = '  (before: the leaves joined as one string, then Buffer.from)';
  const GZIP1 = 'gzip level 1 (the route)';
  const TOTAL = "= the route's stages, summed";
  // Every registered wire format (presenters/index.ts), beside json: present + serialize a page.
  const FORMAT = (name: string) => `format=${name}: present + serialize (feed-body.ts pageBytes)`;
  const present: PresentContext = { tenantId, host: 'bench.invalid', productVersion: PRODUCT_VERSION };
  const samples: Record<string, number[]> = {
    [STORE]: [],
    [SERVICE]: [],
    [CURSOR]: [],
    [TEXT]: [],
    [JOINED]: [],
    [GZIP1]: [],
    [TOTAL]: [],
    ...Object.fromEntries(FORMAT_NAMES.map((f) => [FORMAT(f), [] as number[]])),
  };
  let totalQueries = 0;
  const N = 10;
  for (let i = 0; i < N + 2; i++) {
    const t = t0 + ((i + 0.37) / (N + 2)) * SPAN_MS;
    const next = (await real.firstSeqSince(tenantId, 0, Math.round(t))) ?? 0;
    storeMs = 0;
    queries = 0;
    let started = now();
    const page = await service.readFeedPage({
      tenantId,
      cursor: { v: 2, log: 'trail', next, since: null },
      limit: LIMIT,
      eventTypes: DEFAULT_FEED_TYPES,
    });
    const serviceMs = now() - started;
    started = now();
    const cursor = encodeCursor(page.next, cursorKey, tenantId);
    const cursorMs = now() - started;
    started = now();
    const parts = { events: page.events, nextCursor: cursor, hasMore: page.hasMore, checkpoint: '' };
    const body = pageBytes(parts, PRESENTERS.get('json')!, present);
    const textMs = now() - started;
    // The same bytes the way the route made them before pageBytes: one joined string, then encoded.
    started = now();
    const joined = Buffer.from(
      '{"Events":[' +
        page.events.map((e) => wireOfLeaf(e.leaf ?? '{}', e.eventType)).join(',') +
        `],"NextCursor":${JSON.stringify(cursor)},"HasMore":${page.hasMore},"Checkpoint":""}`,
    );
    const joinedMs = now() - started;
    if (!joined.equals(body)) throw new Error('pageBytes differs from the joined page text');
    started = now();
    zlib.gzipSync(body, { level: 1 });
    const gzip1Ms = now() - started;
    const formatMs: Array<[string, number]> = [];
    for (const [name, presenter] of PRESENTERS) {
      started = now();
      pageBytes(parts, presenter, present);
      formatMs.push([FORMAT(name), now() - started]);
    }
    if (i < 2) continue; // warm-up
    for (const [k, ms] of formatMs) samples[k]!.push(ms);
    totalQueries += queries;
    samples[STORE]!.push(storeMs);
    samples[SERVICE]!.push(serviceMs);
    samples[CURSOR]!.push(cursorMs);
    samples[TEXT]!.push(textMs);
    samples[JOINED]!.push(joinedMs);
    samples[GZIP1]!.push(gzip1Ms);
    samples[TOTAL]!.push(serviceMs + cursorMs + textMs + gzip1Ms);
  }
  const medians: Record<string, number> = {};
  for (const [k, v] of Object.entries(samples)) medians[k] = round(median(v), 2);
  return {
    medians,
    queriesPerPage: totalQueries / N,
    scannedPerPage: LIMIT,
    pages: N,
  };
}

async function explainFeedQuery(url: string, tenantId: number, t: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const pos = await client.query(
    `select seq from log_entries where tenant_id = $1 and log = 0 and watermark >= $2 order by watermark, seq limit 1`,
    [tenantId, Math.round(t)],
  );
  const seq = Number((pos.rows[0] as { seq: string } | undefined)?.seq ?? 0);
  const query = `select seq, event_type, created_at, source, source_id, leaf from log_entries
    where tenant_id = $1 and log = 0 and seq >= $2 and seq < $3 order by seq limit 5000`;
  await client.query(query, [tenantId, seq, seq + 1_000_000]);
  const r = await client.query(`explain (analyze, buffers) ${query}`, [tenantId, seq, seq + 1_000_000]);
  await client.end();
  const plan = r.rows.map((row: Record<string, string>) => row['QUERY PLAN']!);
  const execution = plan.find((l) => l.startsWith('Execution Time'));
  return { plan, executionMs: execution ? Number(/([\d.]+) ms/.exec(execution)?.[1]) : null };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
