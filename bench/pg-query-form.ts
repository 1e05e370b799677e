/**
 * pg's two forms of client.query on a feed-sized result: `npm run bench:pg-query-form`.
 *
 * Kysely calls `await client.query(text, values)` (the promise form); src/db/connect.ts hands it
 * clients that run the callback form instead. This prints the CPU time per query of each form, on one
 * connection, for a 6,000-row result shaped like a feed page's rows (15 columns), alternating the forms
 * over several rounds. Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test;
 * only a TEMP table is created).
 */
import os from 'node:os';
import pg from 'pg';

const URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = 6000;
const ROUNDS = 7;
const QUERIES = 20;

const client = new pg.Client({ connectionString: URL });
await client.connect();
await client.query(`create temp table feed_like as
  select g as id, g::bigint as txid, (1767225600000 + g * 37)::bigint as created_at,
         'Access.Object' as event_type, 'info' as severity, 'success' as outcome, g % 500 as user_id,
         'user' || (g % 500) as username, null::text as client_id, 'Document' as target_type,
         (g % 9000)::text as target_id, 'Document ' || (g % 9000) || '.pdf' as target_name,
         '10.0.' || (g % 250) || '.' || (g % 200) as ip,
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36' as user_agent,
         '{"documentId":' || (g % 9000) || ',"action":"view"}' as details
  from generate_series(1, ${ROWS}) g`);
const text = 'select * from feed_like order by id limit $1';

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const forms = {
  promise: () => client.query(text, [ROWS]),
  callback: () =>
    new Promise<pg.QueryResult>((resolve, reject) =>
      client.query(text, [ROWS], (err: Error | null, res: pg.QueryResult) =>
        err ? reject(err) : resolve(res),
      ),
    ),
};
const samples: Record<keyof typeof forms, number[]> = { promise: [], callback: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const form of ['promise', 'callback'] as const) {
    const started = cpuMs();
    for (let i = 0; i < QUERIES; i++) {
      const res = await forms[form]();
      if (res.rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${res.rows.length}`);
    }
    if (round > 0) samples[form].push((cpuMs() - started) / QUERIES); // round 0 warms up
  }
}
await client.end();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const promise = median(samples.promise);
const callback = median(samples.callback);
console.log(`rows per query        ${ROWS}`);
console.log(`promise form          ${promise.toFixed(1)} ms CPU per query (median of ${ROUNDS - 1} rounds)`);
console.log(`callback form         ${callback.toFixed(1)} ms CPU per query`);
console.log(`promise / callback    ${(promise / callback).toFixed(2)}x`);
console.log(
  JSON.stringify({
    bench: 'pg-query-form',
    rows: ROWS,
    promiseMs: Number(promise.toFixed(2)),
    callbackMs: Number(callback.toFixed(2)),
    ratio: Number((promise / callback).toFixed(2)),
    node: process.version,
    cpus: os.cpus().length,
  }),
);
