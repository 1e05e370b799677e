/**
 * Wire formats on the feed (SPEC §3 `format`, §9), over real HTTP on every store and for every format
 * in the registry (a format added to presenters/index.ts is covered here without a change): the page
 * shape and the cursor are those of json, each record carries the envelope's Id and Seq, object
 * formats are objects and text formats strings, ECS records are valid ECS, and an unknown format is a
 * 400 naming the parameter and the valid values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_NAMES, PRESENTERS } from '../src/modules/feed/presenters/index.js';
import { ecsErrors } from './conformance/ecs-fields.js';
import { EVERY_TYPE, produceEveryEventType } from './every-event-type.js';
import { poll, type FeedPage } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

type Params = Record<string, string | number | undefined>;

/** Every page of a drain, as received. */
async function drainPages(server: TestServer, key: string, params: Params): Promise<FeedPage[]> {
  const pages: FeedPage[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const res = await poll(server, key, { ...params, cursor });
    if (res.status !== 200) throw new Error(`poll failed: ${res.status} ${res.text}`);
    pages.push(res.body);
    cursor = res.body.NextCursor;
    if (!res.body.HasMore) return pages;
  }
  throw new Error('drain did not finish');
}

/** True when `record` holds `n` as a number: a JSON number anywhere in it, or a number token of its text. */
function holdsNumber(record: unknown, n: number): boolean {
  if (typeof record === 'string') return new RegExp(`(^|[^0-9])${n}([^0-9]|$)`).test(record);
  if (typeof record === 'number') return record === n;
  if (record && typeof record === 'object') return Object.values(record).some((v) => holdsNumber(v, n));
  return false;
}

for (const kind of STORES) {
  describe(`feed formats on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let key: string;
    let json: FeedPage[];

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      ({ key } = await produceEveryEventType(server));
      json = await drainPages(server, key, { limit: 3 });
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('the json drain holds every default-feed type (the fixture is complete)', () => {
      const types = new Set(json.flatMap((p) => p.Events.map((e) => e.EventType)));
      expect([...types].sort()).toEqual(EVERY_TYPE.filter((t) => t !== 'Audit.SiemPoll').sort());
      expect(json.length).toBeGreaterThan(2);
    });

    for (const format of FORMAT_NAMES) {
      it(`format=${format}: same pages and cursors as json, one record per event with its Id and Seq`, async () => {
        const presenter = PRESENTERS.get(format)!;
        const pages = await drainPages(server, key, { limit: 3, format });
        expect(pages.map((p) => [p.NextCursor, p.HasMore, p.Checkpoint, p.Events.length])).toEqual(
          json.map((p) => [p.NextCursor, p.HasMore, p.Checkpoint, p.Events.length]),
        );
        for (const [i, page] of pages.entries()) {
          expect(Object.keys(page).sort()).toEqual(['Checkpoint', 'Events', 'HasMore', 'NextCursor']);
          for (const [j, record] of page.Events.entries()) {
            const envelope = json[i]!.Events[j]!;
            if (presenter.kind === 'text') {
              expect(typeof record).toBe('string');
              expect(record as unknown as string).not.toMatch(/\n$/);
            } else {
              expect(typeof record === 'object' && record !== null && !Array.isArray(record)).toBe(true);
            }
            const text = typeof record === 'string' ? record : JSON.stringify(record);
            expect(text).toContain(envelope.Id);
            expect(holdsNumber(record, envelope.Seq)).toBe(true);
            if (format === 'json') expect(record).toEqual(envelope);
            if (format === 'ecs') expect(ecsErrors(record)).toEqual([]);
          }
        }
      });

      it(`format=${format}: poll records (eventType=Audit.SiemPoll) too`, async () => {
        const pages = await drainPages(server, key, { eventType: 'Audit.SiemPoll', format });
        const records = pages.flatMap((p) => p.Events);
        expect(records.length).toBeGreaterThan(0);
        for (const r of records) {
          expect(typeof r === 'string' ? r : JSON.stringify(r)).toContain('LogsSiemPoll:');
          if (format === 'ecs') expect(ecsErrors(r)).toEqual([]);
        }
      });
    }

    it('a page read ahead in one format is not served to a poll asking for another', async () => {
      for (const format of FORMAT_NAMES.filter((f) => f !== 'json')) {
        // A poll that follows its predecessor's cursor (json) has the server prepare the next page, in json.
        const first = await poll(server, key, { limit: 2 });
        const second = await poll(server, key, { limit: 2, cursor: first.body.NextCursor });
        expect(second.body.HasMore).toBe(true);
        const third = await poll(server, key, { limit: 2, cursor: second.body.NextCursor, format });
        expect(third.status).toBe(200);
        const expected = await drainPages(server, key, { limit: 2, format });
        expect(third.body.Events).toEqual(expected[2]!.Events);
      }
      const served = await server.app.inject({ method: 'GET', url: '/metrics' });
      expect(served.body).toMatch(/read_ahead\w*\{outcome="prepared"\} [1-9]/);
    });

    it('an unknown format is a 400 naming the parameter and the valid formats', async () => {
      for (const bad of ['xml', 'JSON', 'cef ', 'x'.repeat(40)]) {
        const res = await poll(server, key, { format: bad });
        expect(res.status).toBe(400);
        expect(res.body.Error).toBe('invalid_format');
        expect(res.body.Message).toMatch(/^format: /);
        if (bad.length <= 32) {
          for (const f of FORMAT_NAMES) expect(res.body.Message).toContain(f);
        }
        expect(Object.keys(res.body).sort()).toEqual(['Error', 'Message']);
      }
    });
  });
}
