/**
 * The auditor's proof end to end (SPEC §8): `itportal siem pull` drains the feed of a real server into
 * rotated NDJSON and keeps the signed checkpoints beside it; `itportal verify` (a real process, from
 * dist/) passes on that copy, then fails, naming the Seq and the reason, on a copy with one byte of one
 * event altered, one line dropped (in the middle and at the end), one line duplicated, and under
 * another installation's verifier key.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { createNoteSigner } from '../src/modules/log/note.js';
import { buildKey, drain, login } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const BIN = path.resolve('bin/itportal.js');
const TYPES: EventType[] = [
  'Login.Success',
  'Login.Failure',
  'Access.Object',
  'Access.Denied',
  'PolicyChange',
];

const POLICY_TARGETS = ['SiemKey', 'IpRange', 'PasswordPolicy', 'GlobalAcl', 'MfaOption', 'document'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function itportal(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { ITPORTAL_SIEM_KEY: _drop, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...base, ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

/** The NDJSON files of a pull (output and rotations) and its checkpoints, as `out*` would list them. */
function pullFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('events.ndjson'))
    .map((f) => path.join(dir, f));
}

/** A copy of the pull's directory, with one event file's lines edited. */
function tampered(dir: string, edit: (lines: string[]) => void): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-verify-bad-'));
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  // All events in one file makes the edit easy to aim: concatenate the rotations in Seq order.
  const eventFiles = pullFiles(copy).filter(
    (f) => !/\.(checkpoints|digests|proofs|state\.json|lock)$/.test(f),
  );
  const lines = eventFiles
    .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean))
    .sort((a, b) => JSON.parse(a).Seq - JSON.parse(b).Seq);
  for (const f of eventFiles) fs.rmSync(f);
  edit(lines);
  fs.writeFileSync(path.join(copy, 'events.ndjson'), lines.map((l) => `${l}\n`).join(''));
  return copy;
}

/**
 * `itportal siem pull --once` of the server's feed into `dir` (events.ndjson and its sidecars), with
 * the key in a file that is removed afterwards; the run must succeed.
 */
async function pullInto(server: TestServer, dir: string, key: string, args: string[]): Promise<void> {
  const keyFile = path.join(dir, 'siem.key');
  fs.writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  const run = await itportal([
    'siem',
    'pull',
    '--url',
    server.url,
    '--key-file',
    keyFile,
    '--out',
    path.join(dir, 'events.ndjson'),
    ...args,
    '--once',
  ]);
  fs.rmSync(keyFile);
  expect(run.code, run.stderr).toBe(0);
}

const lineOf = (lines: string[], seq: number) => lines.findIndex((l) => JSON.parse(l).Seq === seq);

for (const kind of STORES) {
  describe(`itportal verify on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let dir: string;
    let keyFile: string;
    let siemKey: string;
    let total = 0;
    let sinceAt = '';

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      const { key } = await buildKey(server, await login(server));
      siemKey = key;
      for (let i = 0; i < 400; i++) {
        await appendEvent(
          server.database.db,
          tenantId,
          {
            eventType: TYPES[i % TYPES.length]!,
            outcome: 'success',
            // Non-ASCII and characters JSON escapes: the leaf is the canonical form, byte for byte.
            actor: { userId: i, username: `usér-${i} "q" \\ \u2028`, ip: '10.0.0.9', userAgent: 'verify' },
            // PolicyChange cycles through the targets whose controls differ (event-types.ts controlsOf).
            target: {
              type: i % TYPES.length === 4 ? POLICY_TARGETS[((i / TYPES.length) % 6) | 0]! : 'document',
              id: String(i),
              name: `Doc ${i} ✓`,
            },
            details: { i, nested: { b: 1, a: [1.5, 'x'] } },
          },
          Date.now(),
        );
      }
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-verify-'));
      // Small pages and small files: many checkpoints, several rotations.
      await pullInto(server, dir, key, ['--limit', '25', '--max-bytes', '60000']);
      const drained = (await drain(server, key)).events;
      total = drained.length;
      // A later start for the stated-range test: an instant inside the trail.
      sinceAt = drained.find((e) => e.Seq >= 250 && e.Timestamp > drained[0]!.Timestamp)!.Timestamp as string;
      expect(total).toBeGreaterThanOrEqual(400);
      // The verifier key as an auditor gets it: the public endpoint, saved to a file.
      const res = await fetch(`${server.url}/api/siem/log/key`, { headers: { accept: 'text/plain' } });
      expect(res.status).toBe(200);
      keyFile = path.join(os.tmpdir(), `itp-verifier-${crypto.randomUUID()}.pub`);
      fs.writeFileSync(keyFile, await res.text());
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('passes on the drained copy, rotations given in any order', async () => {
      const files = pullFiles(dir);
      expect(files.filter((f) => /\.ndjson\.\d+$/.test(f)).length).toBeGreaterThanOrEqual(2);
      expect(files.some((f) => f.endsWith('.checkpoints'))).toBe(true);
      const run = await itportal(['verify', '--key-file', keyFile, ...files.reverse()]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`verified: Seq 0..${total - 1} of `);
      expect(run.stdout).toMatch(/\/itportal\/\d+\/trail/);
      const json = await itportal(['verify', '--json', '--key-file', keyFile, ...files]);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, events: total });
    });

    it("fails on one altered byte, naming its Seq (by siem pull's digests), or its range without them", async () => {
      const copy = tampered(dir, (lines) => {
        const at = lineOf(lines, 137);
        const altered = lines[at]!.replace('"Name":"Doc ', '"Name":"Dob ');
        expect(altered).not.toBe(lines[at]);
        lines[at] = altered;
      });
      expect(fs.existsSync(path.join(copy, 'events.ndjson.digests'))).toBe(true);
      const run = await itportal(['verify', '--json', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(run.code).toBe(1);
      const out = JSON.parse(run.stdout);
      expect(out.failure.reason).toBe('altered');
      expect(out.failure.seq).toBe(137);
      expect(out.failure.message).toMatch(
        /^altered: Seq 137 \(.*events\.ndjson:\d+\) is not the record siem pull received/,
      );
      const plain = await itportal(['verify', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(plain.stderr).toContain('FAILED at Seq 137: altered');
      // Without the digests (not a proof, only a pointer): the signed root still fails, naming the range.
      fs.rmSync(path.join(copy, 'events.ndjson.digests'));
      const bare = await itportal(['verify', '--json', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(bare.code).toBe(1);
      const failure = JSON.parse(bare.stdout).failure;
      expect(failure.reason).toBe('altered');
      const m = /one of Seq (\d+)\.\.(\d+) does not hash/.exec(failure.message);
      expect(m, failure.message).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(137);
      expect(Number(m![2])).toBeGreaterThanOrEqual(137);
      expect(Number(m![2]) - Number(m![1])).toBeLessThan(25);
      // Digests edited along with the record cannot make it pass: they only point, the signature decides.
      const forged = tampered(dir, (lines) => {
        const at = lineOf(lines, 137);
        lines[at] = lines[at]!.replace('"Name":"Doc ', '"Name":"Dob ');
      });
      const digestsFile = path.join(forged, 'events.ndjson.digests');
      const forgedLine = fs
        .readFileSync(path.join(forged, 'events.ndjson'), 'utf8')
        .split('\n')
        .find((l) => l.includes('"Seq":137,'))!;
      const rewritten = fs
        .readFileSync(digestsFile, 'utf8')
        .split('\n')
        .map((l) => {
          if (!l) return l;
          const e = JSON.parse(l) as { From: number; Digests: string };
          if (137 < e.From || 137 >= e.From + Buffer.from(e.Digests, 'base64').length / 8) return l;
          const bytes = Buffer.from(e.Digests, 'base64');
          crypto
            .createHash('sha256')
            .update(forgedLine)
            .digest()
            .copy(bytes, (137 - e.From) * 8, 0, 8);
          return JSON.stringify({ From: e.From, Digests: bytes.toString('base64') });
        })
        .join('\n');
      fs.writeFileSync(digestsFile, rewritten);
      const still = await itportal(['verify', '--json', '--key-file', keyFile, ...pullFiles(forged)]);
      expect(still.code).toBe(1);
      expect(JSON.parse(still.stdout).failure.reason).toBe('altered');
    });

    it('fails on an altered derived field (outside the hash) naming its Seq', async () => {
      const copy = tampered(dir, (lines) => {
        const at = lineOf(lines, 42);
        const altered = lines[at]!.replace(/"Category":"[A-Za-z]+"/, '"Category":"Audit"');
        expect(altered).not.toBe(lines[at]);
        lines[at] = altered;
      });
      const run = await itportal(['verify', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('FAILED at Seq 42: altered');
    });

    it("fails on a PolicyChange whose Controls are its type's, not its target's, naming its Seq", async () => {
      let seq = -1;
      const copy = tampered(dir, (lines) => {
        const at = lines.findIndex((l) => JSON.parse(l).Target.Type === 'IpRange');
        seq = JSON.parse(lines[at]!).Seq;
        const altered = lines[at]!.replace(
          '"Controls":["AC-3","SC-7"]',
          '"Controls":["AC-2","AC-3","AC-7","IA-5"]',
        );
        expect(altered).not.toBe(lines[at]);
        lines[at] = altered;
      });
      const run = await itportal(['verify', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`FAILED at Seq ${seq}: altered`);
    });

    it('fails on a dropped line, in the middle and at the end, naming the missing Seq', async () => {
      const middle = tampered(dir, (lines) => void lines.splice(lineOf(lines, 200), 1));
      let run = await itportal(['verify', '--key-file', keyFile, ...pullFiles(middle)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('FAILED at Seq 200: missing: Seq 200 ');
      // A planted FILE.proofs (or frontier) changes nothing unless the auditor asks for that check.
      fs.writeFileSync(path.join(middle, 'events.ndjson.proofs'), '{"Size":1,"Proofs":[]}\n');
      const planted = await itportal(['verify', '--key-file', keyFile, ...pullFiles(middle)]);
      expect(planted.code).toBe(1);
      expect(planted.stderr).toContain('FAILED at Seq 200: missing: Seq 200 ');
      const end = tampered(dir, (lines) => void lines.pop());
      run = await itportal(['verify', '--key-file', keyFile, ...pullFiles(end)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`FAILED at Seq ${total - 1}: missing: Seq ${total - 1} `);
    });

    it('fails on a duplicated line naming the Seq', async () => {
      const copy = tampered(dir, (lines) => {
        const at = lineOf(lines, 300);
        lines.splice(at + 1, 0, lines[at]!);
      });
      const run = await itportal(['verify', '--key-file', keyFile, ...pullFiles(copy)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('FAILED at Seq 300: duplicated: Seq 300 again');
    });

    it('verifies a stated range: a pull started with --since checks from its first Seq, with the frontier siem pull kept', async () => {
      const since = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-verify-since-'));
      await pullInto(server, since, siemKey, ['--since', sinceAt, '--limit', '40']);
      const files = pullFiles(since);
      const lines = fs.readFileSync(path.join(since, 'events.ndjson'), 'utf8').split('\n').filter(Boolean);
      const first = JSON.parse(lines[0]!).Seq as number;
      expect(first).toBeGreaterThan(0);
      const run = await itportal(['verify', '--from', String(first), '--key-file', keyFile, ...files]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`verified: Seq ${first}..${first + lines.length - 1} of `);
      // The range is the auditor's to state: unstated, Seq 0.. are missing (the files cannot say it,
      // or dropping the first records and adding a frontier would pass), and the hint names the flag.
      const unstated = await itportal(['verify', '--key-file', keyFile, ...files]);
      expect(unstated.code).toBe(1);
      expect(unstated.stderr).toContain(`FAILED at Seq 0: missing: Seq 0..${first - 1} `);
      expect(unstated.stderr).toContain(`--from ${first}`);
      // Without the frontier the stated range cannot be checked: a usage error naming what is missing.
      const checkpoints = path.join(since, 'events.ndjson.checkpoints');
      const kept = fs.readFileSync(checkpoints, 'utf8');
      expect(kept).toContain('"Frontier"');
      fs.writeFileSync(
        checkpoints,
        kept
          .split('\n')
          .filter((l) => !l.includes('"Frontier"'))
          .join('\n'),
      );
      const bare = await itportal(['verify', '--from', String(first), '--key-file', keyFile, ...files]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain(`--from ${first}: FILE.checkpoints holds no frontier at Seq ${first}`);
      // A forged frontier (one hash changed) cannot pass: the signed roots decide.
      const forged = kept
        .split('\n')
        .map((l) => {
          if (!l.includes('"Frontier"')) return l;
          const e = JSON.parse(l) as { Frontier: { Size: number; Hashes: string[] } };
          e.Frontier.Hashes[0] = crypto.randomBytes(32).toString('base64');
          return JSON.stringify(e);
        })
        .join('\n');
      fs.writeFileSync(checkpoints, forged);
      const bad = await itportal([
        'verify',
        '--json',
        '--from',
        String(first),
        '--key-file',
        keyFile,
        ...files,
      ]);
      expect(bad.code).toBe(1);
      expect(['altered', 'inconsistent checkpoints']).toContain(JSON.parse(bad.stdout).failure.reason);
    });

    it('verifies a filtered pull for inclusion and integrity (each record by its own proof), naming an altered or repeated Seq', async () => {
      const filtered = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-verify-filtered-'));
      await pullInto(server, filtered, siemKey, [
        '--event-type',
        'Login.Failure,PolicyChange',
        '--limit',
        '25',
      ]);
      const out = path.join(filtered, 'events.ndjson');
      const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThanOrEqual(150);
      expect(new Set(lines.map((l) => JSON.parse(l).EventType))).toEqual(
        new Set(['Login.Failure', 'PolicyChange']),
      );
      expect(fs.existsSync(`${out}.proofs`)).toBe(true);
      const ok = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(filtered)]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(
        `verified (filtered pull: inclusion and integrity only): ${lines.length} records of `,
      );
      const json = JSON.parse(
        (await itportal(['verify', '--filtered', '--json', '--key-file', keyFile, ...pullFiles(filtered)]))
          .stdout,
      );
      expect(json).toMatchObject({ ok: true, filtered: true, events: lines.length });
      // Unstated, the same files are checked as the whole trail: its gaps are missing, the hint says --filtered.
      const unstated = await itportal(['verify', '--key-file', keyFile, ...pullFiles(filtered)]);
      expect(unstated.code).toBe(1);
      expect(unstated.stderr).toMatch(/FAILED at Seq \d+: missing: .*--filtered/);

      const seq = JSON.parse(lines[40]!).Seq as number;
      const edited = (edit: (l: string[]) => void) => {
        const copy = [...lines];
        edit(copy);
        fs.writeFileSync(out, copy.map((l) => `${l}\n`).join(''));
      };
      try {
        edited((l) => (l[40] = l[40]!.replace('"Name":"Doc ', '"Name":"Dob ')));
        let run = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(filtered)]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`FAILED at Seq ${seq}: altered: Seq ${seq} is not the entry`);
        edited((l) => l.splice(41, 0, l[40]!));
        run = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(filtered)]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`FAILED at Seq ${seq}: duplicated`);
        // --filtered needs the proofs.
        edited(() => undefined);
        fs.rmSync(`${out}.proofs`);
        run = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(filtered)]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain('--filtered: no FILE.proofs');
      } finally {
        fs.rmSync(filtered, { recursive: true, force: true });
      }
    });

    it('verifies a filtered pull of the poll log (Audit.SiemPoll: its own log, its own proofs)', async () => {
      const polls = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-verify-polls-'));
      try {
        await pullInto(server, polls, siemKey, ['--event-type', 'Audit.SiemPoll', '--limit', '10']);
        const lines = fs.readFileSync(path.join(polls, 'events.ndjson'), 'utf8').split('\n').filter(Boolean);
        expect(lines.length).toBeGreaterThan(10);
        const run = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(polls)]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/records of \S+\/itportal\/\d+\/polls,/);
        // A frontier line of the wrong shape is malformed input, not a crash.
        fs.appendFileSync(
          path.join(polls, 'events.ndjson.checkpoints'),
          `${JSON.stringify({ Frontier: { Size: 7, Hashes: [crypto.randomBytes(32).toString('base64')] } })}\n`,
        );
        const bad = await itportal(['verify', '--filtered', '--key-file', keyFile, ...pullFiles(polls)]);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain('malformed');
      } finally {
        fs.rmSync(polls, { recursive: true, force: true });
      }
    });

    it("fails under another installation's verifier key (same name, other key)", async () => {
      const name = fs.readFileSync(keyFile, 'utf8').trim().split('+')[0]!;
      const other = createNoteSigner(name, crypto.randomBytes(32)).verifierKey;
      const otherFile = path.join(os.tmpdir(), `itp-other-${crypto.randomUUID()}.pub`);
      fs.writeFileSync(otherFile, `${other}\n`);
      const run = await itportal(['verify', '--key-file', otherFile, ...pullFiles(dir)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('bad signature');
      const bad = await itportal([
        'verify',
        '--key-file',
        path.join(dir, 'events.ndjson'),
        ...pullFiles(dir),
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('not a verifier key');
    });
  });
}
