/**
 * When the database goes away the feed answers 503 with Retry-After (never a 500 or a stack trace),
 * and comes back by itself. PostgreSQL is reached through a TCP relay the test cuts; SQLite is made
 * unwritable by another connection holding the write lock past the busy timeout.
 */
import net from 'node:net';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, http, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { createTestDatabase, type TestDatabase } from './stores.js';

function relay(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    listen: () =>
      new Promise<number>((r) =>
        server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)),
      ),
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('database unavailable on postgres', () => {
  let testDb: TestDatabase;
  let server: TestServer;
  const proxy = relay(
    Number(new URL(process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432').port || 5432),
  );

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    const port = await proxy.listen();
    const url = new URL(testDb.env.DATABASE_URL!);
    url.port = String(port);
    server = await startServer({ ...testDb, env: { ...testDb.env, DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    await server?.close();
    await proxy.close();
    await testDb?.drop();
  });

  it('answers 503 + Retry-After while the database is gone, then recovers', async () => {
    const { key } = await buildKey(server, await login(server));
    expect((await poll(server, key, { limit: 1 })).status).toBe(200);
    proxy.cut();
    const down = await poll(server, key, { limit: 1 });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body).toEqual({ Error: 'database_unavailable', Message: expect.any(String) });
    expect(down.text).not.toMatch(/ECONN|node_modules|\bat /);
    expect((await http(server, 'GET', '/readyz')).status).toBe(503);
    expect((await http(server, 'GET', '/healthz')).status).toBe(200);
    proxy.restore();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) status = (await poll(server, key, { limit: 1 })).status;
    expect(status).toBe(200);
  });
});

describe('database unavailable on sqlite', () => {
  let testDb: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    server = await startServer(testDb);
  });
  afterAll(async () => {
    await server?.close();
    await testDb?.drop();
  });

  it('answers 503 + Retry-After while another process holds the write lock', async () => {
    const { key } = await buildKey(server, await login(server));
    const locker = new SQLite(path.join(testDb.env.DATA_DIR!, 'itportal.db'));
    locker.exec('begin immediate');
    try {
      const down = await poll(server, key, { limit: 1 });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.body.Error).toBe('database_unavailable');
    } finally {
      locker.exec('rollback');
      locker.close();
    }
    expect((await poll(server, key, { limit: 1 })).status).toBe(200);
  }, 30_000);
});
