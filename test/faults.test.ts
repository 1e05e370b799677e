/**
 * Database faults under load (issue "Field-ready feed core"), on a private PostgreSQL cluster this test
 * starts itself (initdb + pg_ctl in a temp dir, on a free port): never the shared server.
 *
 * The portal runs as its own process (`node dist/main.js`, what `npm start` runs), reaching PostgreSQL
 * through a TCP proxy of this test. While a SIEM poller drains >= 20,000 events and writers read a
 * company (each read is one Access.Object, tagged by a unique User-Agent):
 * 1. PostgreSQL restarts with `-m immediate` three times;
 * 2. the proxy resets the connection of every other poll record, at its first statement, so the
 *    failure lands while the page is being gzipped.
 * Both must give: no 500, every refusal a 503 with Retry-After, the process never exits, and the final
 * drain holds every seeded and every acknowledged event exactly once.
 *
 * SQLite has no server to restart or connection to reset; its store faults (busy, full) are mapped by
 * the same translation in src/db/connect.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, http, login } from './factories.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const SEEDED = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary as the postgres user (initdb refuses root). */
function asPostgres(bin: string, args: string[]): string {
  const command = process.getuid?.() === 0 ? 'runuser' : path.join(PG_BIN, bin);
  const argv = process.getuid?.() === 0 ? ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args] : args;
  return execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

class PrivateCluster {
  readonly dir: string;
  port = 0;
  constructor() {
    if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
      throw new Error(`PostgreSQL 15 server binaries are missing: apt-get install -y postgresql-15`);
    }
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-pg-'));
    fs.chmodSync(this.dir, 0o777);
  }
  get data() {
    return path.join(this.dir, 'data');
  }
  async start() {
    this.port = await freePort();
    asPostgres('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    this.pgCtl('start');
  }
  pgCtl(action: 'start' | 'restart' | 'stop', mode = 'fast') {
    asPostgres('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.dir, 'log'),
      '-m',
      mode,
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      action,
    ]);
  }
  url(database = 'postgres', port = this.port) {
    return `postgres://postgres@127.0.0.1:${port}/${database}`;
  }
  destroy() {
    try {
      this.pgCtl('stop', 'immediate');
    } catch {
      // already down
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP proxy to PostgreSQL that can reset a connection when the portal starts a poll record (its
 * first statement updates the key's last use), before forwarding it.
 */
class ResettingProxy {
  resetPollRecords = false;
  resets = 0;
  private seen = 0;
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(private target: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const cleanup = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', cleanup).on('close', cleanup);
      upstream.on('error', cleanup).on('close', cleanup);
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('data', (chunk) => {
        if (this.resetPollRecords && chunk.includes('"last_used_from"') && this.seen++ % 2 === 0) {
          this.resets += 1;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
      });
    });
  }
  async listen() {
    this.port = await new Promise<number>((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)),
    );
  }
  close() {
    for (const s of this.sockets) s.destroy();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

interface Portal {
  url: string;
  child: ChildProcess;
  exited: { code: number | null; signal: string | null } | null;
  output: string[];
}

async function startPortal(databaseUrl: string, dataDir: string): Promise<Portal> {
  const main = path.resolve('dist/main.js');
  if (!fs.existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'admin-password-for-tests',
      SIEM_RATE_LIMIT_PER_MINUTE: '100000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const portal: Portal = { url: '', child, exited: null, output: [] };
  child.on('exit', (code, signal) => (portal.exited = { code, signal }));
  child.stderr!.on('data', (c: Buffer) => portal.output.push(c.toString()));
  portal.url = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`portal did not start: ${text}${portal.output.join('')}`)),
      30_000,
    );
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      portal.output.push(c.toString());
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    });
    child.on('exit', () => reject(new Error(`portal exited at start: ${text}${portal.output.join('')}`)));
  });
  return portal;
}

interface Tally {
  statuses: Map<number, number>;
  missingRetryAfter: number;
}

function count(t: Tally, res: Response) {
  t.statuses.set(res.status, (t.statuses.get(res.status) ?? 0) + 1);
  if (res.status === 503 && !res.headers.get('retry-after')) t.missingRetryAfter += 1;
}

/** Reads the company as fast as it can; each 200 is an acknowledged Access.Object with a unique agent. */
async function writer(
  portal: Portal,
  cookie: string,
  companyId: number,
  name: string,
  stop: () => boolean,
  t: Tally,
) {
  const acked: string[] = [];
  for (let i = 0; !stop(); i++) {
    const agent = `${name}-${i}`;
    try {
      const res = await fetch(`${portal.url}/api/companies/${companyId}`, {
        headers: { cookie, 'user-agent': agent },
      });
      await res.arrayBuffer();
      count(t, res);
      if (res.status === 200) acked.push(agent);
      else await sleep(100);
    } catch {
      await sleep(100); // the process is checked separately
    }
  }
  return acked;
}

/**
 * Follows NextCursor from the start, retrying 503s, until a poll that began after `until()` became
 * true answers HasMore: false (so every write acknowledged before then is in what it returns).
 */
async function poller(portal: Portal, key: string, until: () => boolean, t: Tally, limit: number) {
  const events: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  for (;;) {
    const final = until();
    const qs = new URLSearchParams({ limit: String(limit) });
    if (cursor) qs.set('cursor', cursor);
    let res: Response;
    try {
      res = await fetch(`${portal.url}/api/siem/events?${qs}`, {
        headers: { authorization: `ApiKey ${key}`, 'accept-encoding': 'gzip' },
      });
    } catch {
      if (portal.exited) throw new Error(`the portal exited: ${JSON.stringify(portal.exited)}`);
      await sleep(100);
      continue;
    }
    const text = await res.text();
    count(t, res);
    if (res.status === 200) {
      const body = JSON.parse(text) as {
        Events: Array<Record<string, any>>;
        NextCursor: string;
        HasMore: boolean;
      };
      events.push(...body.Events);
      cursor = body.NextCursor;
      if (!body.HasMore && final) return events;
      if (!body.HasMore) await sleep(100);
    } else if (res.status === 503) {
      await sleep(150);
    } else {
      throw new Error(`poll answered ${res.status}: ${text.slice(0, 300)}`);
    }
  }
}

function checkDrain(events: Array<Record<string, any>>, acked: string[], label: string) {
  const ids = events.map((e) => e.Id as string);
  const duplicates = ids.length - new Set(ids).size;
  const seeded = events.filter((e) => String(e.Actor?.Username).startsWith('seed-')).length;
  const agents = new Map<string, number>();
  for (const e of events)
    if (e.EventType === 'Access.Object') agents.set(e.UserAgent, (agents.get(e.UserAgent) ?? 0) + 1);
  const missing = acked.filter((a) => agents.get(a) !== 1);
  console.log(
    `[faults ${label}] events=${events.length} seeded=${seeded} acked=${acked.length} missing=${missing.length} duplicates=${duplicates}`,
  );
  expect(duplicates).toBe(0);
  expect(seeded).toBe(SEEDED);
  expect(missing).toEqual([]);
}

describe('PostgreSQL faults under load (private cluster)', () => {
  const cluster = new PrivateCluster();
  let proxy: ResettingProxy;
  let portal: Portal;
  let key: string;
  let cookie: string;
  let companyId: number;

  beforeAll(async () => {
    await cluster.start();
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('create database itp');
    await admin.end();
    proxy = new ResettingProxy(cluster.port);
    await proxy.listen();
    portal = await startPortal(cluster.url('itp', proxy.port), path.join(cluster.dir, 'portal'));
    cookie = await login(portal.url);
    key = (await buildKey(portal.url, cookie)).key;
    const company = await http(portal.url, 'POST', '/api/companies', { cookie, body: { name: 'Fault Co' } });
    companyId = company.body.id;
    const direct = new pg.Client({ connectionString: cluster.url('itp') });
    await direct.connect();
    await direct.query(
      `insert into logs_login (tenant_id, created_at, event_type, severity, outcome, username, details)
       select (select id from tenants order by id limit 1), $1::bigint + g, 'Login.Failure', 'warning', 'failure', 'seed-' || g, '{}'
       from generate_series(1, ${SEEDED}) g`,
      [Date.now() - 3_600_000],
    );
    await direct.end();
  }, 120_000);

  afterAll(async () => {
    portal?.child.kill('SIGKILL');
    await proxy?.close();
    cluster.destroy();
  });

  async function scenario(label: string, limit: number, fault: (done: () => boolean) => Promise<void>) {
    const t: Tally = { statuses: new Map(), missingRetryAfter: 0 };
    let faultsDone = false;
    const writers = [0, 1, 2, 3].map((n) =>
      writer(portal, cookie, companyId, `${label}-${n}`, () => faultsDone, t),
    );
    let writersDone = false;
    const drained = poller(portal, key, () => writersDone, t, limit);
    // A poller that fails (a 500, the process gone) ends the scenario at once.
    await Promise.race([fault(() => faultsDone), drained]);
    faultsDone = true;
    const acked = (await Promise.all(writers)).flat();
    // Every acknowledged write has committed: the poller ends with a page it asked for after this.
    writersDone = true;
    const events = await drained;
    console.log(`[faults ${label}] statuses=${JSON.stringify([...t.statuses])} resets=${proxy.resets}`);
    expect(portal.exited, portal.output.join('').slice(-2000)).toBeNull();
    expect(t.statuses.get(500) ?? 0).toBe(0);
    expect([...t.statuses.keys()].filter((s) => ![200, 503].includes(s))).toEqual([]);
    expect(t.missingRetryAfter).toBe(0);
    checkDrain(events, acked, label);
    return t;
  }

  it('restarts of PostgreSQL (-m immediate, 3 times): only 503s with Retry-After, nothing lost or repeated', async () => {
    const t = await scenario('restart', 500, async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(1500);
        cluster.pgCtl('restart', 'immediate');
      }
      await sleep(1000);
    });
    expect(t.statuses.get(503) ?? 0).toBeGreaterThan(0);
  }, 180_000);

  it('a connection reset while the page is gzipped: a 503, the process keeps serving, nothing lost', async () => {
    proxy.resets = 0;
    proxy.resetPollRecords = true;
    try {
      const t = await scenario('reset-during-gzip', 2000, async () => {
        while (proxy.resets < 8) await sleep(100);
      });
      expect(proxy.resets).toBeGreaterThanOrEqual(8);
      expect(t.statuses.get(503) ?? 0).toBeGreaterThanOrEqual(8);
    } finally {
      proxy.resetPollRecords = false;
    }
  }, 180_000);
});
