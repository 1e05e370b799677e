/**
 * `since` seeks: the first poll with `since=<now>` over N older events (default 1,000,000) must return
 * the new event at once (one poll, HasMore false), in time that does not grow with N.
 *
 *   npm run bench:feed-since -- --events=1000000 [--store=postgres|sqlite|both] [--runs=5]
 *
 * Seeds N events straight into the source tables (one INSERT ... SELECT per table, spread over a day
 * ending an hour ago), starts the portal in this process on a real port, then RUNS times: writes one
 * new event, polls `since=<just before it>` over HTTP and times that one poll. Prints each run and the
 * median. Environment: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const EVENTS = Number(option('events', '1000000'));
const RUNS = Number(option('runs', '5'));
const STORES = option('store', 'both') === 'both' ? ['postgres', 'sqlite'] : [option('store', 'postgres')];
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TABLES = ['logs_login', 'logs_access', 'logs_admin', 'logs_denied'] as const;
const TYPES: Record<(typeof TABLES)[number], string> = {
  logs_login: 'Login.Failure',
  logs_access: 'Access.Object',
  logs_admin: 'AdminAction',
  logs_denied: 'Access.Denied',
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function seed(database: Database, tenantId: number, start: number) {
  const per = Math.ceil(EVENTS / TABLES.length);
  const step = Math.max(1, Math.floor(86_400_000 / per));
  for (const table of TABLES) {
    // The same statement on both stores: a recursive CTE counts 1..per.
    await sql`insert into ${sql.table(table)} (tenant_id, created_at, event_type, severity, outcome, username, details)
      with recursive g(n) as (select 1 union all select n + 1 from g where n < ${per})
      select ${tenantId}, cast(${start} as bigint) + n * ${step}, ${TYPES[table]}, 'info', 'success', 'user' || (n % 5000), '{}'
      from g`.execute(database.db);
    process.stdout.write(`  seeded ${table} (${per} rows)\n`);
  }
}

async function benchStore(kind: string) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-bench-since-'));
  const name = `itp_bench_since_${crypto.randomBytes(4).toString('hex')}`;
  let databaseUrl: string | undefined;
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  const database = openDatabase({ databaseUrl, dataDir });
  try {
    await migrateToLatest(database);
    const config = loadConfig({
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      LOG_LEVEL: 'silent',
      SIEM_READ_AHEAD: 'false',
    });
    const { app, ctx } = await buildApp({ config, database, logger: false });
    const tenantId = await ctx.tenants.defaultTenantId(Date.now());
    const seeded = performance.now();
    await seed(database, tenantId, Date.now() - 90_000_000);
    if (kind === 'postgres') await sql`vacuum analyze`.execute(database.db);
    else await sql`analyze`.execute(database.db);
    const seedSeconds = (performance.now() - seeded) / 1000;
    const { key } = await ctx.siemKeys.issueSiemKey({
      tenantId,
      actor: { userId: null, username: 'bench', ip: null, userAgent: null },
      description: 'bench',
      allowedCidrs: '',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const since = new Date(Date.now() + 1).toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const marker = `since-${run}`;
      await appendEvent(
        database.db,
        tenantId,
        {
          eventType: 'Login.Failure',
          outcome: 'failure',
          actor: { userId: null, username: marker, ip: null, userAgent: null },
        },
        Date.now(),
      );
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/api/siem/events?since=${encodeURIComponent(since)}`, {
        headers: { authorization: `ApiKey ${key}` },
      });
      const body = (await res.json()) as { Events: Array<{ Actor: { Username: string } }>; HasMore: boolean };
      const ms = performance.now() - started;
      times.push(ms);
      const found = body.Events.some((e) => e.Actor.Username === marker);
      console.log(
        `  run ${run + 1}: first poll ${ms.toFixed(1)} ms, status ${res.status}, events ${body.Events.length}, new event found ${found}, HasMore ${body.HasMore}`,
      );
      if (!found || body.HasMore)
        throw new Error('the first poll with since did not return the new event alone');
    }
    console.log(
      JSON.stringify({
        bench: 'feed-since',
        store: kind,
        olderEvents: EVENTS,
        seedSeconds: Math.round(seedSeconds),
        runs: RUNS,
        firstPollMsMedian: Math.round(median(times) * 10) / 10,
        firstPollMsMax: Math.round(Math.max(...times) * 10) / 10,
      }),
    );
    await app.close();
  } finally {
    await database.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
}

for (const kind of STORES) {
  console.log(`== ${kind}: ${EVENTS} older events`);
  await benchStore(kind);
}
