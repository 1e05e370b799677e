/**
 * `itportal siem pull`, run as a real process (from dist/) against a real server on each store.
 *
 * The kill test is the client's promise: SIGKILL at random instants, while events keep being written
 * and the output keeps rotating, then a restart each time, and at the end every event of the feed is
 * in the NDJSON files exactly once.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputFiles } from '../src/cli/siem-pull-output.js';
import type { Database } from '../src/db/connect.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { buildKey, drain, http as request, login } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const BIN = path.resolve('bin/itportal.js');
const NO_RATE_LIMIT = { SIEM_RATE_LIMIT_PER_MINUTE: '100000' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FEED_TABLES = {
  logs_login: 'LogsLogin',
  logs_access: 'LogsAccess',
  logs_admin: 'LogsAdmin',
  logs_denied: 'LogsDenied',
};
const TYPES: EventType[] = [
  'Login.Success',
  'Login.Failure',
  'Access.Object',
  'Access.Denied',
  'PolicyChange',
  'AdminAction',
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the client to completion. The test's own ITPORTAL_SIEM_KEY never leaks in unless given. */
function pull(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  const { ITPORTAL_SIEM_KEY: _drop, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'siem', 'pull', ...args],
      { env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'itp-pull-'));
}

function writeKey(dir: string, key: string): string {
  const file = path.join(dir, 'siem.key');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return file;
}

/** Every line of every output file, oldest file first; a torn line fails the JSON parse. */
function outputEvents(out: string): Array<Record<string, any>> {
  const events: Array<Record<string, any>> = [];
  for (const file of outputFiles(out)) {
    const text = fs.readFileSync(file, 'utf8');
    if (text.length > 0) expect(text.endsWith('\n'), `${file} ends mid-line`).toBe(true);
    for (const line of text.split('\n').filter(Boolean)) events.push(JSON.parse(line));
  }
  return events;
}

async function allFeedIds(database: Database, tenantId: number): Promise<string[]> {
  const ids: string[] = [];
  for (const [table, name] of Object.entries(FEED_TABLES)) {
    const rows = await database.db
      .selectFrom(table as keyof typeof FEED_TABLES)
      .select('id')
      .where('tenant_id', '=', tenantId)
      .execute();
    ids.push(...rows.map((r) => `${name}:${r.id}`));
  }
  return ids;
}

beforeAll(() => {
  if (!fs.existsSync('dist/cli/siem-pull.js'))
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it in pretest)');
});

for (const kind of STORES) {
  describe(`itportal siem pull on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let tenantId: number;
    let admin: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, NO_RATE_LIMIT);
      tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      admin = await login(server);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('is killed (SIGKILL) at ≥ 20 random instants while events are written, and writes every event exactly once', async () => {
      const { key } = await buildKey(server, admin, { description: 'kill test' });
      const dir = tmpDir();
      const keyFile = writeKey(dir, key);
      const out = path.join(dir, 'events.ndjson');
      const args = [
        '--url', server.url, '--key-file', keyFile, '--out', out,
        '--interval', '0.2', '--limit', '7', '--max-bytes', '16384',
      ]; // prettier-ignore

      let writing = true;
      let written = 0;
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          const batch = 1 + Math.floor(Math.random() * 3);
          await server.database.db.transaction().execute(async (trx) => {
            for (let i = 0; i < batch; i++) {
              await appendEvent(
                trx,
                tenantId,
                {
                  eventType: TYPES[(n + i) % TYPES.length]!,
                  outcome: 'success',
                  actor: { userId: 1, username: 'writer', ip: '10.0.0.9', userAgent: 'kill-test' },
                  details: { n, i },
                },
                Date.now(),
              );
            }
          });
          written += batch;
          await sleep(5 + Math.random() * 20);
        }
      })();

      const KILLS = 22;
      let resumedWithTornTail = 0;
      let finishedRotations = 0;
      for (let i = 0; i < KILLS; i++) {
        const child = spawn(process.execPath, [BIN, 'siem', 'pull', ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        const firstLine = new Promise<void>((resolve) => {
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
            if (stderr.includes('\n')) resolve();
          });
        });
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        // Node's start-up takes a few hundred ms; count the random instant from the client's first
        // log line, so that the kills land while it polls, appends, commits and rotates.
        await Promise.race([firstLine, exited]);
        await sleep(50 + Math.random() * 350);
        child.kill('SIGKILL');
        const result = await exited;
        expect(result.signal, `run ${i} ended on its own: ${stderr}`).toBe('SIGKILL');
        const started = JSON.parse(stderr.split('\n')[0]!);
        if (started.droppedUncommittedBytes > 0) resumedWithTornTail += 1;
        if (started.finishedRotation) finishedRotations += 1;
      }
      writing = false;
      await writer;

      const final = await pull([...args, '--once']);
      expect(final.code, final.stderr).toBe(0);
      const last = final.stderr.trim().split('\n')[0]!;
      if (JSON.parse(last).droppedUncommittedBytes > 0) resumedWithTornTail += 1;

      const ids = outputEvents(out).map((e) => e.Id as string);
      const expected = await allFeedIds(server.database, tenantId);
      const seen = new Set(ids);
      const missing = expected.filter((id) => !seen.has(id));
      const duplicates = ids.length - seen.size;
      const unexpected = [...seen].filter((id) => !expected.includes(id));
      const files = outputFiles(out).length;
      console.log(
        `[siem pull kill test, ${kind}] kills=${KILLS} events=${expected.length} (written by the test: ${written}) ` +
          `output=${ids.length} files=${files} missing=${missing.length} duplicates=${duplicates} ` +
          `restarts that cut back a torn page=${resumedWithTornTail} that finished a rotation=${finishedRotations}`,
      );
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      expect(unexpected).toEqual([]);
      expect(files).toBeGreaterThan(5); // rotation happened many times during the kills
      expect(expected.length).toBeGreaterThan(500);
    }, 120_000);

    it('drains with --once, --since, --event-type and --limit, and refuses a changed filter on the same state', async () => {
      const { key } = await buildKey(server, admin, { description: 'filter' });
      const since = new Date(Date.now() - 1000).toISOString();
      for (let i = 0; i < 9; i++) {
        await request(server, 'POST', '/api/auth/login', {
          body: { username: `ghost${i}`, password: 'nope' },
        });
      }
      const dir = tmpDir();
      const out = path.join(dir, 'failures.ndjson');
      const args = [
        '--url',
        `${server.url}/`,
        '--out',
        out,
        '--since',
        since,
        '--event-type',
        'Login.Failure',
      ];
      const run = await pull([...args, '--once', '--limit', '2', '--max-bytes', '1500'], {
        ITPORTAL_SIEM_KEY: key,
      });
      expect(run.code, run.stderr).toBe(0);
      const events = outputEvents(out);
      const expected = (await drain(server, key, { since, eventType: 'Login.Failure' })).events;
      expect(events.map((e) => e.Id)).toEqual(expected.map((e) => e.Id));
      expect(events.length).toBeGreaterThanOrEqual(9);
      expect(new Set(events.map((e) => e.EventType))).toEqual(new Set(['Login.Failure']));
      expect(outputFiles(out).length).toBeGreaterThan(1);
      expect(fs.existsSync(`${out}.state.json`)).toBe(true);
      expect(run.stderr).not.toContain(key);
      for (const line of run.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

      const again = await pull([...args, '--once'], { ITPORTAL_SIEM_KEY: key });
      expect(again.code).toBe(0);
      expect(outputEvents(out).length).toBe(events.length); // nothing new, nothing twice

      const changed = await pull(['--url', server.url, '--out', out, '--once', '--event-type', 'Login.*'], {
        ITPORTAL_SIEM_KEY: key,
      });
      expect(changed.code).toBe(1);
      expect(changed.stderr).toContain('--event-type');
    });

    it('refuses a key flag, explains 401 and a bad cursor without retrying, and never prints the key', async () => {
      const { id, key } = await buildKey(server, admin, { description: 'refusals' });
      const dir = tmpDir();
      const out = path.join(dir, 'events.ndjson');
      const keyFile = writeKey(dir, key);

      const flag = await pull(['--url', server.url, '--out', out, '--key', key]);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('--key is refused');
      expect(flag.stderr).toContain('ps');
      expect(flag.stderr + flag.stdout).not.toContain(key.slice(-64));

      // A key file others can read is refused, like ssh refuses such a private key, with the fix.
      const open = path.join(dir, 'open.key');
      fs.writeFileSync(open, `${key}\n`, { mode: 0o644 });
      fs.chmodSync(open, 0o644);
      const exposed = await pull(['--url', server.url, '--out', out, '--key-file', open, '--once']);
      expect(exposed.code).toBe(2);
      expect(exposed.stderr).toContain('readable by others (mode 0644)');
      expect(exposed.stderr).toContain(`chmod 600 ${open}`);
      expect(exposed.stderr + exposed.stdout).not.toContain(key.slice(-64));

      const badFile = path.join(dir, 'bad.key');
      fs.writeFileSync(badFile, 'itp_siem_0123_not-a-key-secret-value', { mode: 0o600 });
      const bad = await pull(['--url', server.url, '--out', out, '--key-file', badFile]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).not.toContain('not-a-key-secret-value');

      // A bad cursor: 400 invalid_cursor ends the run at once with what to do.
      const ok = await pull(['--url', server.url, '--out', out, '--key-file', keyFile, '--once']);
      expect(ok.code, ok.stderr).toBe(0);
      const statePath = `${out}.state.json`;
      const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
      fs.writeFileSync(statePath, JSON.stringify({ ...state, cursor: `${state.cursor.slice(0, -4)}AAAA` }));
      const tampered = await pull(['--url', server.url, '--out', out, '--key-file', keyFile]);
      expect(tampered.code).toBe(3);
      expect(tampered.stderr).toContain('invalid_cursor');
      expect(tampered.stderr).toContain('--since');
      expect(tampered.ms).toBeLessThan(10_000);

      // Revoked: 401, the causes to check, exit 3, no retry loop, no key in the output.
      expect((await request(server, 'DELETE', `/api/admin/siem/keys/${id}`, { cookie: admin })).status).toBe(
        200,
      );
      const revoked = await pull([
        '--url',
        server.url,
        '--out',
        path.join(dir, 'b.ndjson'),
        '--key-file',
        keyFile,
      ]);
      expect(revoked.code).toBe(3);
      expect(revoked.stderr).toContain('401');
      expect(revoked.stderr).toContain('Allowed CIDRs');
      expect(revoked.stderr).not.toContain(key.slice(-64));
      expect(revoked.ms).toBeLessThan(10_000);
    });

    it('refuses an output that has no state rather than duplicating or cutting it', async () => {
      const { key } = await buildKey(server, admin, { description: 'no state' });
      const dir = tmpDir();
      const out = path.join(dir, 'events.ndjson');
      fs.writeFileSync(out, '{"Id":"LogsLogin:1"}\n');
      const run = await pull(['--url', server.url, '--out', out, '--once'], { ITPORTAL_SIEM_KEY: key });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('no state file');
      expect(fs.readFileSync(out, 'utf8')).toBe('{"Id":"LogsLogin:1"}\n');
    });
  });
}

describe('itportal siem pull against a throttling server', () => {
  it('honours 429 and 503 Retry-After, asks for gzip, and sends the key only in Authorization', async () => {
    const seen: Array<{ at: number; headers: http.IncomingHttpHeaders; url: string }> = [];
    const event = { Id: 'LogsLogin:1', Timestamp: '2026-04-25T13:41:31.863Z', EventType: 'Login.Success' };
    const fake = http.createServer((req, res) => {
      seen.push({ at: Date.now(), headers: req.headers, url: req.url ?? '' });
      if (seen.length === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        return res.end('{"Error":"rate_limited","Message":"slow down"}');
      }
      if (seen.length === 2) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        return res.end('{"Error":"database_unavailable","Message":"later"}');
      }
      const body = JSON.stringify({
        Events: [event],
        NextCursor: `c${seen.length}`,
        HasMore: seen.length < 4,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(body));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as { port: number }).port;
    const key = `itp_siem_${'a'.repeat(16)}_${'b'.repeat(64)}`;
    const dir = tmpDir();
    const out = path.join(dir, 'events.ndjson');
    try {
      const run = await pull(['--url', `http://127.0.0.1:${port}`, '--out', out, '--once'], {
        ITPORTAL_SIEM_KEY: key,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(seen).toHaveLength(4);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(1000);
      expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(1000);
      for (const s of seen) {
        expect(s.headers.authorization).toBe(`ApiKey ${key}`);
        expect(s.headers['accept-encoding']).toContain('gzip');
        expect(s.url).not.toContain(key);
      }
      expect(seen[3]!.url).toContain('cursor=c3');
      expect(outputEvents(out)).toHaveLength(2);
      expect(run.stderr).toContain('retrying');
      expect(run.stderr).not.toContain(key);

      // --once gives up after --max-retries and says so with a non-zero exit.
      seen.length = 0;
      const failing = http.createServer((_req, res) => {
        res.writeHead(503, { 'retry-after': '0' });
        res.end();
      });
      await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
      const port2 = (failing.address() as { port: number }).port;
      const gaveUp = await pull(
        [
          '--url',
          `http://127.0.0.1:${port2}`,
          '--out',
          path.join(dir, 'x.ndjson'),
          '--once',
          '--max-retries',
          '1',
        ],
        { ITPORTAL_SIEM_KEY: key },
      );
      failing.close();
      expect(gaveUp.code).toBe(1);
      expect(gaveUp.stderr).toContain('503');
    } finally {
      fake.close();
    }
  }, 30_000);
});
