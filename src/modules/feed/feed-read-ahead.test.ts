import { describe, expect, it } from 'vitest';
import { acceptsGzip, createReadAhead, type ReadPage } from './feed-read-ahead.js';

/** A fake feed of pages 0..last: page n's NextCursor asks for n + 1. */
function pages(last: number, reads: number[], fail?: number): ReadPage<number> {
  return async (n) => {
    reads.push(n);
    if (n === fail) throw new Error('database gone');
    const head = {
      eventCount: 1,
      hasMore: n < last,
      nextCursor: `c${n + 1}`,
      log: 'trail',
      firstSeq: n,
      lastSeq: n,
      nextSeq: n + 1,
    };
    return {
      head,
      next: n < last ? { cursor: n + 1, request: `c${n + 1}` } : null,
      finish: async () => ({ ...head, body: { payload: Buffer.from(`page ${n}`), gzip: false } }),
    };
  };
}
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('read-ahead', () => {
  it('starts only for a poll that follows the cursor it was last given, and stays `depth` pages ahead', async () => {
    const reads: number[] = [];
    const ra = createReadAhead<number>({ enabled: true, depth: 2 });
    const read = pages(10, reads);
    // Page 0 answered afresh: nothing read ahead yet (a poller may jump around).
    ra.follow('k', { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false }, read);
    await tick();
    expect(reads).toEqual([]);
    // Page 1 follows: pages 2 and 3 are read ahead, no further.
    ra.follow('k', { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false }, read);
    await tick();
    expect(reads).toEqual([2, 3]);
    expect(ra.pending).toBe(2);
    // Taking page 2 lets page 4 be read.
    expect((await ra.take('k', 'c2'))?.body.payload.toString()).toBe('page 2');
    await tick();
    expect(reads).toEqual([2, 3, 4]);
    // Another owner, or another request, is not answered from this chain.
    expect(await ra.take('other', 'c3')).toBeNull();
    expect(await ra.take('k', 'c4')).toBeNull();
    await ra.close();
  });

  it('does nothing when disabled, forgets a failed read, and waits for reads under way on close', async () => {
    const reads: number[] = [];
    const off = createReadAhead<number>({ enabled: false });
    off.follow(
      'k',
      { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false },
      pages(5, reads),
    );
    off.follow(
      'k',
      { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false },
      pages(5, reads),
    );
    await tick();
    expect(reads).toEqual([]);

    const errors: unknown[] = [];
    const ra = createReadAhead<number>({ enabled: true, depth: 1, onError: (e) => errors.push(e) });
    const read = pages(5, reads, 2);
    ra.follow('k', { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false }, read);
    ra.follow('k', { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false }, read);
    expect(await ra.take('k', 'c2')).toBeNull();
    expect(errors).toHaveLength(1);
    await ra.close();
    expect(ra.pending).toBe(0);
    // Closed: a late poll (a handler outliving the server) starts nothing.
    const before = reads.length;
    ra.follow('k', { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false }, read);
    ra.follow('k', { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false }, read);
    await tick();
    expect(reads.length).toBe(before);
  });

  it('drops the least recently active owner beyond maxOwners, and a chain after its ttl', async () => {
    const reads: number[] = [];
    const ra = createReadAhead<number>({ enabled: true, depth: 1, maxOwners: 2, ttlMs: 30 });
    for (const owner of ['a', 'b', 'c']) {
      const read = pages(5, reads);
      ra.follow(owner, { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false }, read);
      ra.follow(owner, { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false }, read);
    }
    expect(await ra.take('a', 'c2')).toBeNull();
    expect((await ra.take('c', 'c2'))?.body.payload.toString()).toBe('page 2');
    await new Promise((r) => setTimeout(r, 60));
    expect(await ra.take('b', 'c2')).toBeNull();
    await ra.close();
  });
});

describe('read-ahead reads', () => {
  it('runs at most maxReads page reads at once, all owners together, and none starves', async () => {
    let now = 0;
    let most = 0;
    const reads: number[] = [];
    const slow: ReadPage<number> = async (n) => {
      now += 1;
      most = Math.max(most, now);
      await tick();
      now -= 1;
      return pages(3, reads)(n);
    };
    const ra = createReadAhead<number>({ enabled: true, depth: 2, maxReads: 1 });
    for (const owner of ['a', 'b', 'c']) {
      ra.follow(owner, { asked: null, issued: 'c1', next: { cursor: 1, request: 'c1' }, taken: false }, slow);
      ra.follow(owner, { asked: 'c1', issued: 'c2', next: { cursor: 2, request: 'c2' }, taken: false }, slow);
    }
    for (const owner of ['a', 'b', 'c']) {
      expect((await ra.take(owner, 'c2'))?.body.payload.toString()).toBe('page 2');
      expect((await ra.take(owner, 'c3'))?.body.payload.toString()).toBe('page 3');
    }
    expect(most).toBe(1);
    await ra.close();
  });
});

describe('acceptsGzip', () => {
  it.each([
    [{ 'accept-encoding': 'gzip, deflate, br' }, true],
    [{ 'accept-encoding': 'br;q=1.0, gzip;q=0.8' }, true],
    [{ 'accept-encoding': '*' }, true],
    [{ 'accept-encoding': 'gzip;q=0' }, false],
    [{ 'accept-encoding': 'identity' }, false],
    [{ 'accept-encoding': '*, gzip;q=0' }, false],
    [{}, false],
    [{ 'accept-encoding': 'gzip', 'x-no-compression': '1' }, false],
  ])('%j → %s', (headers, expected) => {
    expect(acceptsGzip(headers)).toBe(expected);
  });
});
