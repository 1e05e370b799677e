/**
 * The sequencer's merge (SPEC §8): a table's rows in `(txid, id)` order need not be in time order
 * (several nodes' clocks, a bulk load). Every batch must still make progress, keep each table's own
 * order, and give Seq 0..N−1 to every row once, on both stores.
 *
 * This stalled before: a batch cut by its size stopped at the earliest "last row read" of a cut
 * table, which lies below every head when that table's rows run backwards in time, so it appended
 * nothing and reported more, forever (found by bench/feed.ts on a generate_series seed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/connect.js';
import { createLogStore } from '../src/modules/log/log-store.js';
import { LOGS, SOURCE_INDEX } from '../src/modules/log/log-leaf.js';
import { createSequencer } from '../src/modules/log/sequencer.js';
import { insertRawEvents, openTestDatabase } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const BASE = Date.UTC(2026, 0, 1);

for (const kind of STORES) {
  describe(`sequencer merge on ${kind}`, () => {
    let testDb: TestDatabase;
    let database: Database;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      database = await openTestDatabase(testDb);
    });
    afterAll(async () => {
      await database?.close();
      await testDb?.drop();
    });

    it('progresses on every batch when a cut table runs backwards in time, and keeps each table in order', async () => {
      // 37 logins whose times fall as their ids rise, and 9 access events spread across them.
      await insertRawEvents(
        database,
        'logs_login',
        'Login.Failure',
        Array.from({ length: 37 }, (_, i) => BASE + (37 - i) * 1000),
      );
      await insertRawEvents(
        database,
        'logs_access',
        'Access.Object',
        Array.from({ length: 9 }, (_, i) => BASE + i * 4500 + 1),
      );
      const sequencer = createSequencer({
        database,
        store: createLogStore(database),
        clock: { now: () => Date.now() },
        batchSize: 10,
      });
      const appended: number[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await sequencer.runBatch(1, 'trail');
        appended.push(r.appended);
        if (!r.more) break;
      }
      // Every batch took something, and the batches add up to every row.
      expect(appended.every((n) => n > 0)).toBe(true);
      expect(appended.reduce((a, b) => a + b, 0)).toBe(46);

      const entries = await database.db
        .selectFrom('log_entries')
        .select(['seq', 'source', 'source_id'])
        .where('tenant_id', '=', 1)
        .where('log', '=', LOGS.trail.id)
        .orderBy('seq')
        .execute();
      expect(entries.map((e) => Number(e.seq))).toEqual(Array.from({ length: 46 }, (_, i) => i));
      for (const source of ['LogsLogin', 'LogsAccess'] as const) {
        const ids = entries
          .filter((e) => Number(e.source) === SOURCE_INDEX.get(source))
          .map((e) => Number(e.source_id));
        expect(ids.length).toBe(source === 'LogsLogin' ? 37 : 9);
        // Each table once, in its own order.
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(ids.length);
      }
      const head = await createLogStore(database).readHead(1, LOGS.trail.id);
      expect(head.size).toBe(46);
      // A further batch finds nothing and says so.
      expect(await sequencer.runBatch(1, 'trail')).toEqual({ appended: 0, more: false });
    });
  });
}
