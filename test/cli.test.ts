/** The `itportal` command, run as a real process against each store, and its keys used over HTTP. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/itportal.js');

async function itportal(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  if (!fs.existsSync('dist/cli/index.js'))
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
});

for (const kind of STORES) {
  describe(`itportal CLI on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      const migrated = await itportal(testDb.env, 'migrate');
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toContain('0002-event-store');
      server = await startServer(testDb);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('issues, lists and revokes a SIEM key that the server honours', async () => {
      const issued = await itportal(
        testDb.env,
        'siem-key',
        'issue',
        '--description',
        'from the CLI',
        '--allowed-cidrs',
        '127.0.0.1/32',
        '--json',
      );
      expect(issued.code).toBe(0);
      const key = JSON.parse(issued.stdout);
      expect(key.key).toMatch(/^itp_siem_[0-9a-f]{16}_[0-9a-f]{64}$/);
      expect((await poll(server, key.key, { limit: 1 })).status).toBe(200);

      const list = await itportal(testDb.env, 'siem-key', 'list');
      expect(list.stdout).toContain(key.id);
      expect(list.stdout).toContain('active');
      expect(list.stdout).not.toContain(key.key.split('_').pop());

      const revoked = await itportal(testDb.env, 'siem-key', 'revoke', key.id);
      expect(revoked.code).toBe(0);
      expect((await poll(server, key.key, { limit: 1 })).status).toBe(401);

      const reader = JSON.parse(
        (await itportal(testDb.env, 'siem-key', 'issue', '--description', 'reader', '--json')).stdout,
      );
      const { events } = await drain(server, reader.key, { eventType: 'PolicyChange' });
      const mine = events.filter((e) => e.Target.Id === key.id);
      expect(mine.map((e) => e.Details.action)).toEqual(['siem_key.issued', 'siem_key.revoked']);
      // The operator's OS account and host, not a bare "cli".
      expect(mine[0]!.Actor.Username).toBe(`cli:${os.userInfo().username}@${os.hostname()}`);
    });

    it('creates users (password from a file, never a flag) and tenants', async () => {
      const file = path.join(testDb.env.DATA_DIR!, 'pw');
      fs.writeFileSync(file, 'a-long-cli-password\n');
      const created = await itportal(
        testDb.env,
        'user',
        'create',
        '--username',
        'carol',
        '--role',
        'member',
        '--password-file',
        file,
      );
      expect(created.code).toBe(0);
      expect(created.stdout).not.toContain('a-long-cli-password');
      const login = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'carol', password: 'a-long-cli-password' }),
      });
      expect(login.status).toBe(200);
      const tenant = await itportal(
        testDb.env,
        'tenant',
        'create',
        '--name',
        'Acme',
        '--host',
        `acme-${kind}.example.test`,
      );
      expect(tenant.code).toBe(0);
      expect(tenant.stdout).toContain(`acme-${kind}.example.test`);
    });

    it('demo fills the tenant with realistic activity over the span, with progress', async () => {
      const res = await itportal(testDb.env, 'demo', '--events', '3000', '--days', '3');
      expect(res.code).toBe(0);
      const progress = res.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      expect(progress.at(-1)).toMatchObject({ msg: 'demo progress', done: 3000, total: 3000 });
      expect(res.stdout).toMatch(/3000 events over 3 days/);
      const reader = JSON.parse(
        (await itportal(testDb.env, 'siem-key', 'issue', '--description', 'demo reader', '--json')).stdout,
      );
      const { events } = await drain(server, reader.key, {
        since: new Date(Date.now() - 3 * 86_400_000 - 60_000).toISOString(),
      });
      const demo = events.filter(
        (e) => e.Actor.Username?.startsWith('demo.') || e.Details.reason === 'ip_blocked',
      );
      expect(demo.length).toBeGreaterThanOrEqual(3000);
      const types = new Set(demo.map((e) => e.EventType));
      for (const t of [
        'Login.Success',
        'Login.Failure',
        'Login.Logout',
        'Access.Object',
        'Access.Denied',
        'PolicyChange',
        'AdminAction',
      ]) {
        expect(types.has(t), t).toBe(true);
      }
      expect(demo.some((e) => e.Target.Type === 'Password' && e.Severity === 'warning')).toBe(true);
      const times = demo.map((e) => Date.parse(e.Timestamp));
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(2 * 86_400_000);
    });

    it('explains bad usage with a non-zero exit and no stack trace', async () => {
      for (const args of [
        ['nope'],
        ['siem-key', 'issue'],
        ['siem-key', 'issue', '--description', 'x', '--allowed-cidrs', '999.0.0.0/8'],
        ['siem-key', 'revoke', 'ffffffffffffffff'],
      ]) {
        const res = await itportal(testDb.env, ...args);
        expect(res.code, args.join(' ')).not.toBe(0);
        expect(res.stderr).not.toMatch(/\n\s+at /);
      }
      const bad = await itportal(
        testDb.env,
        'siem-key',
        'issue',
        '--description',
        'x',
        '--allowed-cidrs',
        '999.0.0.0/8',
      );
      expect(bad.stderr).toContain('999.0.0.0/8');
    });
  });
}

// Store-agnostic (a fresh data directory, nothing opened): run once, not per store.
describe('itportal --help and options', () => {
  it('answers --help for every command and subcommand (exit 0, nothing done), --version, and names an unknown option', async () => {
    const fresh = { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'itp-help-')) };
    try {
      const commands = [
        [],
        ['serve'],
        ['migrate'],
        ['tenant'],
        ['tenant', 'create'],
        ['user'],
        ['user', 'create'],
        ['siem-key'],
        ['siem-key', 'issue'],
        ['siem-key', 'list'],
        ['siem-key', 'revoke'],
        ['demo'],
        ['siem'],
        ['siem', 'pull'],
      ];
      for (const command of commands) {
        const res = await itportal(fresh, ...command, '--help');
        expect(res.code, command.join(' ')).toBe(0);
        expect(res.stdout, command.join(' ')).toMatch(/^Usage: itportal/);
      }
      // No side effect: neither `serve --help` nor `migrate --help` created the database.
      expect(fs.readdirSync(fresh.DATA_DIR)).toEqual([]);
      const version = await itportal(fresh, '--version');
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
      const unknown = await itportal(fresh, 'demo', '--evnets', '5');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown option '--evnets'");
      // A typo is named before any required option is missed; a missing one is still named.
      for (const command of [
        ['siem', 'pull'],
        ['verify'],
        ['tenant', 'create'],
        ['user', 'create'],
        ['siem-key', 'issue'],
      ]) {
        const typo = await itportal(fresh, ...command, '--bogus');
        expect(typo.code, command.join(' ')).toBe(2);
        expect(typo.stderr, command.join(' ')).toContain("unknown option '--bogus'");
      }
      const missing = await itportal(fresh, 'tenant', 'create', '--name', 'x');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("required option '--host <host...>' not specified");
      expect(fs.readdirSync(fresh.DATA_DIR)).toEqual([]);
    } finally {
      fs.rmSync(fresh.DATA_DIR, { recursive: true, force: true });
    }
  });
});

describe('itportal serve', () => {
  it('shows the generated first-admin password even when the start fails (port taken), and it signs in', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-serve-'));
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    let server: ChildProcess | undefined;
    try {
      const failed = await itportal({ DATA_DIR: dataDir, PORT: String(taken), HOST: '127.0.0.1' }, 'serve');
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/EADDRINUSE/);
      const password = /generated password \(shown once, change it\): (\S+)/.exec(failed.stdout)?.[1];
      expect(password, failed.stdout).toBeTruthy();
      // The same data directory, a free port: no second password is shown, and the first one works.
      blocker.close();
      server = spawn(process.execPath, [BIN, 'serve'], {
        env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        server!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        server!.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
      expect(out).not.toMatch(/generated password/);
    } finally {
      blocker.close();
      server?.kill('SIGTERM');
      if (server) await new Promise((r) => server!.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('itportal serve with ADMIN_PASSWORD', () => {
  it("starts with an operator's short ADMIN_PASSWORD, warns that it is below the policy, and signs in with it", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-serve-pw-'));
    const server = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_PASSWORD: 'admin123' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)[\s\S]*WARNING/.exec(out);
          if (m) resolve(m[1]!);
        });
        server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      expect(out).toMatch(/WARNING: ADMIN_PASSWORD is shorter than the password policy's 12 characters/);
      expect(out).not.toContain('admin123');
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'admin123' }),
      });
      expect(login.status).toBe(200);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
