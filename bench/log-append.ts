/**
 * The sequencer's per-event costs, with the write measured old way against new way in one run (ratios,
 * since this 2-core machine's absolute figures move with its load): `npm run bench:log-append [-- --rounds=N]`.
 *
 * 1. Leaf: RFC 8785 canonical JSON of a realistic envelope by the `canonicalize` package, and its hash.
 * 2. Writing 5,000 entries and their tree nodes to PostgreSQL in one transaction: Kysely's multi-row
 *    VALUES (a parameter per cell) against the dialect's bulkInsert (`unnest`, a parameter per
 *    column). A fresh database `itp_bench_<random>`, dropped at the end.
 * Prints the median per round of each, and their ratio.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { StoredEvent } from '../src/modules/feed/feed-store.js';
import { leafOf } from '../src/modules/log/log-leaf.js';
import { createLogStore, type NewEntry } from '../src/modules/log/log-store.js';
import { CompactRange, leafHash, type StoredNode } from '../src/modules/log/merkle.js';

const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 9);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 5000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 1) => n.toFixed(d);

function event(i: number): StoredEvent {
  return {
    source: 'LogsAccess',
    id: i,
    txid: 0,
    createdAt: 1_764_000_000_000 + i,
    eventType: 'Access.Object',
    severity: null,
    outcome: 'success',
    userId: 12,
    username: 'alice',
    clientId: null,
    targetType: 'Document',
    targetId: String(i % 500),
    targetName: 'Runbook: VPN for the Köln office',
    ip: '10.0.0.42',
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
    details: JSON.stringify({ companyId: 3, documentId: i % 500, title: 'Runbook: VPN for the Köln office' }),
    legacy: null,
  } as unknown as StoredEvent;
}

async function main() {
  console.log(
    `== Leaf: canonical JSON (RFC 8785, the canonicalize package) + SHA-256 of ${BATCH} envelopes, ${ROUNDS} rounds`,
  );
  const events = Array.from({ length: BATCH }, (_, i) => event(i));
  const leafTimes: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const t = performance.now();
    for (const [i, e] of events.entries()) leafHash(leafOf(e, i).leaf);
    if (r >= 2) leafTimes.push(((performance.now() - t) * 1000) / BATCH);
  }
  console.log(`leafOf + leafHash           ${fmt(median(leafTimes))} µs/event`);

  const name = `itp_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = openDatabase({ databaseUrl: url.toString(), dataDir: '/tmp', poolSize: 2 });
  try {
    await migrateToLatest(database);
    const bulk = createLogStore(database);
    const values = createLogStore({
      db: database.db,
      dialect: { ...database.dialect, bulkInsert: () => null },
    });
    console.log(
      `\n== Writing ${BATCH} entries + their tree nodes in one transaction (PostgreSQL), ${ROUNDS} rounds`,
    );
    const range = new CompactRange(0, []);
    let log = 0;
    const times = { values: [] as number[], bulk: [] as number[] };
    for (let r = 0; r < ROUNDS + 1; r++) {
      for (const [kind, store] of [
        ['values', values],
        ['bulk', bulk],
      ] as const) {
        // Each write goes to a log of its own (a fresh key range), as the sequencer's appends do.
        log += 1;
        const entries: NewEntry[] = [];
        const nodes: StoredNode[] = [];
        for (let i = 0; i < BATCH; i++) {
          const { leaf } = leafOf(event(i), i);
          const hash = leafHash(leaf);
          for (const n of range.append(hash)) if (n.level > 0) nodes.push(n);
          entries.push({
            seq: i,
            eventType: 'Access.Object',
            createdAt: 1,
            watermark: 1,
            source: 1,
            sourceId: i,
            leaf,
            leafHash: hash,
          });
        }
        const head = await bulk.readHead(1, log);
        const t = performance.now();
        await database.db
          .transaction()
          .execute((trx) => store.append(trx, 1, log, entries, nodes, { ...head, size: BATCH }, Date.now()));
        if (r > 0) times[kind].push(performance.now() - t);
      }
    }
    const count = await sql<{ n: string }>`select count(*)::text as n from log_entries`.execute(database.db);
    console.log(
      `Kysely VALUES              ${fmt(median(times.values))} ms per ${BATCH} (${fmt((median(times.values) * 1000) / BATCH)} µs/event)`,
    );
    console.log(
      `bulkInsert (unnest)        ${fmt(median(times.bulk))} ms per ${BATCH} (${fmt((median(times.bulk) * 1000) / BATCH)} µs/event)   (${fmt(median(times.values) / median(times.bulk))}x)`,
    );
    console.log(`rows written               ${count.rows[0]!.n}`);
  } finally {
    await database.close();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

await main();
