/**
 * Is a feed page's cost flat in the size of the log? `npm run bench:feed-flat -- --sizes=100000,1000000,10000000`
 *
 * One PostgreSQL database (fresh, `itp_bench_flat_<random>`, dropped at the end) and the portal in this
 * process on a real port. The log grows through the sizes given, in one run: for each size, seed the
 * four source tables up to it (bench/seed-sql.ts, 1,000,000-event transactions), let the product's
 * sequencer give every event its Seq (timed: the sequencer's throughput at that size), VACUUM ANALYZE,
 * then time `--pages` `limit=5000` pages over HTTP without gzip (the body read to its end) at cursors
 * spread at random over the whole log, after 5 warm-up pages. Prints p50 / p90 per size, each p50 as a
 * ratio of the first size's, the log's bytes per event, and one JSON summary line.
 * Environment: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { encodeCursor } from '../src/modules/feed/feed-cursor.js';
import { FEED_TABLES, seedStatement } from './seed-sql.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SIZES = option('sizes', '100000,1000000').split(',').map(Number);
const PAGES = Number(option('pages', '30'));
if (
  SIZES.some((n) => !Number.isSafeInteger(n) || n < 10_000) ||
  SIZES.some((n, i) => i > 0 && n <= SIZES[i - 1]!)
)
  throw new Error('--sizes: increasing integers of at least 10000');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LIMIT = 5000;
const CHUNK = 1_000_000;
const STEP_MS = 1000;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (n: number, d = 1) =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main() {
  const name = `itp_bench_flat_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-bench-flat-'));
  const database = openDatabase({ databaseUrl: url.toString(), dataDir, poolSize: 10 });
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, load ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' / ')}`,
  );
  const results: Array<Record<string, number>> = [];
  try {
    await migrateToLatest(database);
    const config = loadConfig({
      DATABASE_URL: url.toString(),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      SIEM_READ_AHEAD: 'false',
      SIEM_RATE_LIMIT_PER_MINUTE: '100000',
    });
    const { app, ctx } = await buildApp({ config, database, logger: false });
    // Only the timed catch-up below sequences, so its figure is one sequencer's alone.
    await ctx.sequencing.stop();
    const tenantId = await ctx.tenants.defaultTenantId(Date.now());
    const { key } = await ctx.siemKeys.issueSiemKey({
      tenantId,
      actor: { userId: null, username: 'bench', ip: null, userAgent: null },
      description: 'bench',
      allowedCidrs: '',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const t0 = Date.now() - SIZES[SIZES.length - 1]! * STEP_MS - 3_600_000;
    const seeder = new pg.Client({ connectionString: url.toString() });
    await seeder.connect();
    let seeded = 0;
    let random = 42;
    const next = () => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648;

    for (const size of SIZES) {
      console.log(`\n== log of ${fmt(size, 0)} events`);
      const seedStarted = performance.now();
      while (seeded < size) {
        const hi = Math.min(size, seeded + CHUNK);
        await seeder.query('begin');
        for (const table of FEED_TABLES)
          await seeder.query(seedStatement(table), [tenantId, t0, STEP_MS, seeded, hi - 1]);
        await seeder.query('commit');
        seeded = hi;
        process.stdout.write(`\r  seeded ${fmt(seeded, 0)}`);
      }
      console.log(`  in ${fmt((performance.now() - seedStarted) / 1000)} s`);
      const seqStarted = performance.now();
      const headBefore = (await ctx.logStore.readHead(tenantId, 0)).size;
      for (;;) {
        const r = await ctx.sequencer.catchUp(tenantId, 'trail', 1000);
        if (!r.more) break;
      }
      const head = (await ctx.logStore.readHead(tenantId, 0)).size;
      const seqSeconds = (performance.now() - seqStarted) / 1000;
      const seqRate = (head - headBefore) / seqSeconds;
      console.log(
        `  sequenced ${fmt(head - headBefore, 0)} in ${fmt(seqSeconds)} s = ${fmt(seqRate, 0)} events/s (head ${fmt(head, 0)})`,
      );
      await sql`vacuum analyze`.execute(database.db);
      const bytes = await sql<{
        b: string;
      }>`select (pg_total_relation_size('log_entries') + pg_total_relation_size('log_nodes'))::text as b`.execute(
        database.db,
      );
      const bytesPerEvent = Number(bytes.rows[0]!.b) / head;

      const page = async (seq: number) => {
        const cursor = encodeCursor({ v: 2, log: 'trail', next: seq, since: null }, ctx.cursorKey, tenantId);
        const started = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/api/siem/events?limit=${LIMIT}&cursor=${cursor}`, {
          headers: { authorization: `ApiKey ${key}`, 'accept-encoding': 'identity' },
        });
        const body = Buffer.from(await res.arrayBuffer());
        const ms = performance.now() - started;
        if (res.status !== 200 || !body.includes(`"Seq":${seq},`))
          throw new Error(`page at ${seq}: ${res.status}`);
        return ms;
      };
      for (let i = 0; i < 5; i++) await page(Math.floor(next() * (head - LIMIT)));
      const ms: number[] = [];
      for (let i = 0; i < PAGES; i++) ms.push(await page(Math.floor(next() * (head - LIMIT))));
      const p50 = percentile(ms, 50);
      const p90 = percentile(ms, 90);
      const ratio = p50 / (results[0]?.p50Ms ?? p50);
      console.log(
        `  page p50 ${fmt(p50)} ms, p90 ${fmt(p90)} ms (${PAGES} pages); p50 / first size's: ${fmt(ratio, 2)}; log ${fmt(bytesPerEvent, 0)} bytes/event`,
      );
      results.push({
        size: head,
        sequencerEventsPerSec: Math.round(seqRate),
        p50Ms: Math.round(p50 * 10) / 10,
        p90Ms: Math.round(p90 * 10) / 10,
        ratioToFirst: Math.round(ratio * 100) / 100,
        logBytesPerEvent: Math.round(bytesPerEvent),
      });
    }
    await seeder.end();
    await app.close();
  } finally {
    await database.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
  console.log(
    JSON.stringify({
      bench: 'feed-flat',
      loadAverageAtEnd: os.loadavg().map((n) => Math.round(n * 100) / 100),
      results,
    }),
  );
}

await main();
