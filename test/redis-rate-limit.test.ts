/** The per-key rate limit in Redis (REDIS_URL), shared by two nodes, on every store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

for (const kind of STORES) {
  describe(`Redis rate limit on ${kind}`, () => {
    let testDb: TestDatabase;
    let a: TestServer;
    let b: TestServer;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      const env = { REDIS_URL, SIEM_RATE_LIMIT_PER_MINUTE: '4' };
      a = await startServer(testDb, env);
      b = await startServer(testDb, env);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await testDb?.drop();
    });

    it('counts polls across nodes in Redis and answers 429 with Retry-After', async () => {
      const { key } = await buildKey(a, await login(a));
      const statuses: number[] = [];
      const windowOf = (t: number) => Math.floor(t / 60_000);
      const started = Date.now();
      for (let i = 0; i < 6; i++) statuses.push((await poll(i % 2 ? b : a, key, { limit: 1 })).status);
      if (windowOf(started) === windowOf(Date.now())) {
        expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      } else {
        // A window boundary fell inside the loop and the count restarted: still at least one refusal.
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      }
      const refused = await poll(a, key, { limit: 1 });
      if (refused.status === 429)
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The counter lives in Redis, not in the database table.
      const dbRows = await a.database.db.selectFrom('rate_limits').selectAll().execute();
      expect(dbRows).toEqual([]);
    });

    it('answers 503 when Redis is unreachable, not 500', async () => {
      const down = await startServer(testDb, {
        REDIS_URL: 'redis://127.0.0.1:1',
        SIEM_RATE_LIMIT_PER_MINUTE: '4',
      });
      try {
        // Sign-in needs the (down) rate limiter too: issue the key through a healthy node on the same store.
        const { key } = await buildKey(a, await login(a));
        const res = await poll(down, key, { limit: 1 });
        expect(res.status).toBe(503);
        expect(res.body.Error).toBe('rate_limiter_unavailable');
        expect(res.headers.get('retry-after')).toBe('5');
      } finally {
        await down.close();
      }
    });
  });
}
