/**
 * A backlog page that sequenced entries fill skips the sequencer's batch (feed-service.ts): it ends
 * below the head, so HasMore is true anyway. Every other page still runs the batch first, so events
 * committed but not yet sequenced reach the poller on this page or the next, never silently later:
 * a page that reaches the head, and a page whose `since` floor drops entries so that it would end at
 * the head. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/connect.js';
import { DEFAULT_FEED_TYPES, createFeedService, type FeedService } from '../src/modules/feed/feed-service.js';
import { createFeedStore } from '../src/modules/feed/feed-store.js';
import { createLogStore } from '../src/modules/log/log-store.js';
import { createSequencer, type Sequencer } from '../src/modules/log/sequencer.js';
import { insertRawEvents, openTestDatabase } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const BASE = Date.UTC(2026, 0, 1);

const insertLogins = (database: Database, times: number[]) =>
  insertRawEvents(database, 'logs_login', 'Login.Success', times);

for (const kind of STORES) {
  describe(`a backlog page on ${kind}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let sequencer: Sequencer;
    let feed: FeedService;
    let batches = 0;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      database = await openTestDatabase(testDb);
      // Seq 0..29 in time order, except Seq 20..24, written with times before BASE.
      await insertLogins(
        database,
        Array.from({ length: 30 }, (_, i) => (i >= 20 && i < 25 ? BASE - 1000 : BASE + i * 1000)),
      );
      const log = createLogStore(database);
      sequencer = createSequencer({ database, store: log, clock: { now: () => Date.now() } });
      await sequencer.catchUp(1, 'trail');
      const counting: Pick<Sequencer, 'catchUp'> = {
        catchUp: (...args) => {
          batches += 1;
          return sequencer.catchUp(...args);
        },
      };
      feed = createFeedService({ store: createFeedStore(database), log, sequencer: counting });
      // Five more, committed and final, not sequenced yet.
      await insertLogins(
        database,
        [1, 2, 3, 4, 5].map((i) => BASE + 100_000 + i),
      );
    });
    afterAll(async () => {
      await database?.close();
      await testDb?.drop();
    });

    const page = (next: number, limit: number, since: number | null = null) =>
      feed.readFeedPage({
        tenantId: 1,
        cursor: { v: 2, log: 'trail', next, since },
        limit,
        eventTypes: DEFAULT_FEED_TYPES,
      });

    it('skips the batch for a page that ends below the head, and runs it for one that reaches the head', async () => {
      batches = 0;
      const deep = await page(5, 10);
      expect(deep.events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(deep.hasMore).toBe(true);
      expect(deep.headSize).toBe(30);
      expect(batches).toBe(0);

      // Seq 20..29 end at the head: the batch runs first and the five unsequenced events follow.
      const last = await page(20, 10);
      expect(batches).toBe(1);
      expect(last.events.map((e) => e.seq)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
      expect(last.headSize).toBe(35);
      expect(last.hasMore).toBe(true);
      const rest = await page(last.next.next, 10);
      expect(rest.events.map((e) => e.seq)).toEqual([30, 31, 32, 33, 34]);
      expect(rest.hasMore).toBe(false);
    });

    it('runs the batch when a since floor would end the page at the head', async () => {
      await insertLogins(database, [BASE + 200_000]);
      batches = 0;
      // From Seq 10 with since = BASE: Seq 20..24 are older and dropped, so 20 entries from Seq 10 reach
      // Seq 34, the head: without the batch, HasMore would be false while Seq 35 waits unsequenced.
      const floor = await page(10, 20, BASE);
      expect(batches).toBe(1);
      expect(floor.events.map((e) => e.seq)).toEqual([
        10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
      ]);
      expect(floor.headSize).toBe(36);
      expect(floor.hasMore).toBe(true);
    });
  });
}
