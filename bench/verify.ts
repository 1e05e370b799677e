/**
 * `itportal verify` throughput: `npx tsx bench/verify.ts [--events=1000000]`.
 *
 * Writes N events as the feed serves them (leafOf + wireOfLeaf, the server's own code, so each line
 * is byte for byte what `siem pull` stores), one signed checkpoint per 5,000 (one per feed page, as
 * `siem pull` keeps them), to a temp dir; then runs the verifier (the CLI's verifyFiles, in-process)
 * three times and prints each run's events/s and their median. Prints one JSON line last.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyFiles } from '../src/cli/verify.js';
import { SOURCE_TABLES } from '../src/modules/audit/event-types.js';
import { leafOf, wireOfLeaf } from '../src/modules/log/log-leaf.js';
import { CompactRange, leafHash } from '../src/modules/log/merkle.js';
import { checkpointText, createNoteSigner, signNote } from '../src/modules/log/note.js';

const arg = (name: string, fallback: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : fallback;
};
const N = arg('events', 1_000_000);
const TYPES = ['Login.Success', 'Login.Failure', 'Access.Object', 'Access.Denied', 'PolicyChange'];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-bench-verify-'));
const signer = createNoteSigner('bench.example/itportal', crypto.randomBytes(32));
fs.writeFileSync(path.join(dir, 'key.pub'), `${signer.verifierKey}\n`);
const out = fs.openSync(path.join(dir, 'events.ndjson'), 'w');
const cps = fs.openSync(path.join(dir, 'events.ndjson.checkpoints'), 'w');
const range = CompactRange.empty();
const t0 = Date.now();
let buf: string[] = [];
for (let seq = 0; seq < N; seq++) {
  const type = TYPES[seq % TYPES.length]!;
  const { leaf } = leafOf(
    {
      source: SOURCE_TABLES[seq % 4]!.name,
      id: seq + 1,
      txid: seq,
      createdAt: 1_760_000_000_000 + seq * 1000,
      eventType: type,
      severity: null,
      outcome: 'success',
      userId: seq % 500,
      username: `user${seq % 500}@example.com`,
      clientId: null,
      targetType: 'document',
      targetId: String(seq % 10_000),
      targetName: `Runbook ${seq % 10_000}`,
      ip: `10.0.${seq % 256}.${(seq >> 8) % 256}`,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      details: JSON.stringify({ method: 'GET', path: `/api/documents/${seq % 10_000}` }),
    },
    seq,
  );
  range.append(leafHash(leaf));
  buf.push(wireOfLeaf(leaf, type));
  if (range.size % 5000 === 0 || seq === N - 1) {
    fs.writeSync(out, `${buf.join('\n')}\n`);
    buf = [];
    const note = signNote(
      checkpointText({ origin: 'bench.example/itportal/1/trail', size: range.size, root: range.root() }),
      signer,
    );
    fs.writeSync(cps, `${JSON.stringify({ Checkpoint: note })}\n`);
  }
}
fs.closeSync(out);
fs.closeSync(cps);
const bytes = fs.statSync(path.join(dir, 'events.ndjson')).size;
console.log(
  `wrote ${N} events (${(bytes / 1e6).toFixed(0)} MB, ${Math.round(bytes / N)} B/event) in ${Date.now() - t0} ms`,
);

const rates: number[] = [];
for (let run = 1; run <= 3; run++) {
  const r = await verifyFiles({
    keyFile: path.join(dir, 'key.pub'),
    files: [path.join(dir, 'events.ndjson')],
  });
  if (!r.ok) throw new Error(`verify failed: ${r.failure?.message}`);
  const rate = Math.round(r.events / r.seconds);
  rates.push(rate);
  console.log(
    `verify run ${run}: ${r.events} events in ${r.seconds.toFixed(2)} s = ${rate} events/s (${(bytes / r.seconds / 1e6).toFixed(0)} MB/s)`,
  );
}
const median = [...rates].sort((a, b) => a - b)[1]!;
console.log(`verify median: ${median} events/s`);
console.log(
  JSON.stringify({
    bench: 'verify',
    events: N,
    bytesPerEvent: Math.round(bytes / N),
    eventsPerSecond: rates,
    median,
  }),
);
fs.rmSync(dir, { recursive: true, force: true });
