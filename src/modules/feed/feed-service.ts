/**
 * One page of the feed: a k-way merge of the source tables by timestamp, each table read in its
 * `(txid, id)` order below the visibility horizon, so the cursor only ever passes rows that can no
 * longer change.
 *
 * Rules the merge keeps:
 * - The page reads the visibility horizon once, first, and every read of the page stops below it.
 * - A table's new position is the last row handed out, or, when every row it scanned was handed out
 *   or filtered away, the last row scanned. Nothing between the old and new position is unread.
 * - Seeks, never scans, where nothing is wanted: a table no requested type lives in jumps to its last
 *   final row; on a first poll with `since`, each table starts just before its first final row at or
 *   after `since` (by the time index), or at its last final row when it has none. Every row passed
 *   by a jump is final and unwanted, so a jump hands out nothing and skips nothing wanted.
 *   Positions only move forward (a jump never moves one back).
 * - Filtering (eventType, since) happens here, over rows read in position order, so a filtered poll
 *   advances past what it skips. The rows scanned per poll are bounded (SCAN_BUDGET): a sparse filter
 *   over a large backlog answers in bounded time with fewer events and HasMore.
 * - When a table stops early (budget spent), the merge hands out no event later than the last
 *   timestamp that table scanned, so cross-table order holds as far as it can be known.
 */
import { EVENT_TYPE_LIST, SOURCE_TABLES, type SourceTable } from '../audit/event-types.js';
import type { FeedCursor, FeedPosition } from './feed-cursor.js';
import { effectiveEventType } from './feed-presenter.js';
import type { FeedStore, Horizon, StoredEvent } from './feed-store.js';

/** Rows one poll may scan across all tables before it answers with what it has. */
export const SCAN_BUDGET = 50_000;
export const MAX_LIMIT = 5000;

/**
 * What a page read past its end, per table: rows that match the poll but were not handed out (all
 * after the table's position in the page's NextCursor), and how far the table was scanned. Every row
 * up to `scanPos` was below the visibility horizon when read, so none can still appear there: the next
 * page of the same chain (feed-read-ahead.ts) starts from these instead of reading them again.
 */
export type FeedCarry = Partial<
  Record<SourceTable, { rows: StoredEvent[]; scanPos: FeedPosition; lastScannedAt: number | null }>
>;

/** Where a page of a read-ahead chain starts: the cursor, and what the page before it carried. */
export interface FeedResume {
  cursor: FeedCursor;
  carry?: FeedCarry;
}

export interface FeedPageRequest {
  tenantId: number;
  cursor: FeedCursor;
  /** The previous page's carry, when this page's cursor is that page's NextCursor (same filters). */
  carry?: FeedCarry;
  limit: number;
  /** Event types to return; the default feed's set when the poll names none. */
  eventTypes: ReadonlySet<string>;
}

export interface FeedPage {
  events: StoredEvent[];
  next: FeedCursor;
  /** For the page after this one, read with `next` and the same filters. */
  carry: FeedCarry;
  hasMore: boolean;
  scanned: number;
}

export const DEFAULT_FEED_TYPES: ReadonlySet<string> = new Set(
  EVENT_TYPE_LIST.filter((t) => t.inDefaultFeed).map((t) => t.type),
);

interface Stream {
  source: SourceTable;
  order: number;
  wanted: boolean;
  start: FeedPosition;
  scanPos: FeedPosition;
  lastTaken: FeedPosition | null;
  lastScannedAt: number | null;
  buffer: StoredEvent[];
  head: number;
  exhausted: boolean;
  fetches: number;
  taken: number;
}

const isAfter = (a: FeedPosition, b: FeedPosition) => a.txid > b.txid || (a.txid === b.txid && a.id > b.id);

export function createFeedService({ store }: { store: FeedStore }) {
  /** Where a stream starts reading, when it can seek instead of scan (see the rules at the top). */
  async function seek(tenantId: number, s: Stream, since: number | null, fresh: boolean, horizon: Horizon) {
    if (!s.wanted) {
      const last = await store.lastFinalPosition(tenantId, s.source, horizon);
      if (last && isAfter(last, s.scanPos)) s.scanPos = last;
      s.buffer = [];
      s.exhausted = true;
      return;
    }
    if (since === null || !fresh) return;
    const first =
      (await store.firstFinalPositionSince(tenantId, s.source, since, horizon)) ??
      (await store.lastFinalPosition(tenantId, s.source, horizon));
    if (first && isAfter(first, s.scanPos)) s.start = s.scanPos = first;
  }

  async function readFeedPage(req: FeedPageRequest): Promise<FeedPage> {
    const { tenantId, cursor, limit, eventTypes, carry } = req;
    const since = cursor.since;
    const horizon = await store.readHorizon();
    const wantedTables = new Set(EVENT_TYPE_LIST.filter((t) => eventTypes.has(t.type)).map((t) => t.source));
    const streams: Stream[] = SOURCE_TABLES.map(({ name }, order) => {
      const start = cursor.positions[name] ?? { txid: 0, id: 0 };
      const carried = carry?.[name];
      return {
        source: name,
        order,
        wanted: wantedTables.has(name),
        start,
        scanPos: carried?.scanPos ?? start,
        lastTaken: null,
        lastScannedAt: carried?.lastScannedAt ?? null,
        buffer: carried?.rows ?? [],
        head: 0,
        exhausted: false,
        fetches: 0,
        taken: 0,
      };
    });
    const wantedCount = Math.max(1, wantedTables.size);
    // A first chunk of about half a table's fair share; later chunks sized by the share each table
    // has had of this page so far, so that little is read and not handed out (re-read next poll).
    const firstChunk = Math.min(limit + 1, Math.max(50, Math.ceil(limit / (2 * wantedCount))));
    const events: StoredEvent[] = [];
    const nextChunk = (s: Stream) => {
      if (s.fetches === 0) {
        // The previous page's mix, when the cursor carries it, sizes the first read of each table.
        const share = cursor.shares?.[s.source];
        // Rows carried from the previous page count towards it.
        const carried = carry?.[s.source]?.rows.length ?? 0;
        return share === undefined
          ? firstChunk
          : Math.min(limit + 1, Math.max(64, Math.ceil(((limit * share) / 1000) * 1.1) + 16 - carried));
      }
      const share = (s.taken + 1) / (events.length + wantedCount);
      return Math.min(limit + 1, Math.max(64, Math.ceil((limit - events.length) * share * 1.25) + 32));
    };
    let budget = SCAN_BUDGET;
    let scanned = 0;

    const matches = (e: StoredEvent) =>
      (since === null || e.createdAt >= since) && eventTypes.has(effectiveEventType(e));

    async function fill(s: Stream): Promise<void> {
      while (s.head >= s.buffer.length && !s.exhausted && budget > 0) {
        const n = Math.min(nextChunk(s), budget);
        const rows = await store.readAfter(tenantId, s.source, s.scanPos, n, horizon);
        s.fetches += 1;
        budget -= rows.length;
        scanned += rows.length;
        if (rows.length < n) s.exhausted = true;
        const last = rows[rows.length - 1];
        if (last) {
          s.scanPos = { txid: last.txid, id: last.id };
          s.lastScannedAt = last.createdAt;
        }
        s.buffer = rows.filter(matches);
        s.head = 0;
      }
    }

    // Seeks, then the first chunk of every table, all at once: the database works on them together.
    await Promise.all(
      streams.map(async (s) => {
        await seek(
          tenantId,
          s,
          since,
          cursor.positions[s.source] === undefined && !carry?.[s.source],
          horizon,
        );
        await fill(s);
      }),
    );
    while (events.length < limit) {
      for (const s of streams) if (s.head >= s.buffer.length && !s.exhausted && budget > 0) await fill(s);
      let pick: Stream | null = null;
      let bound = Infinity;
      for (const s of streams) {
        const head = s.buffer[s.head];
        if (head) {
          if (!pick || head.createdAt < pick.buffer[pick.head]!.createdAt) pick = s;
        } else if (!s.exhausted) {
          // Budget spent on this table: its unread rows may be as early as what it last scanned.
          bound = Math.min(bound, s.lastScannedAt ?? -Infinity);
        }
      }
      if (!pick) break;
      const event = pick.buffer[pick.head]!;
      if (event.createdAt > bound) break;
      events.push(event);
      pick.head += 1;
      pick.taken += 1;
      pick.lastTaken = { txid: event.txid, id: event.id };
    }

    const positions: FeedCursor['positions'] = {};
    const nextCarry: FeedCarry = {};
    let hasMore = false;
    for (const s of streams) {
      const drained = s.head >= s.buffer.length;
      positions[s.source] = drained ? s.scanPos : (s.lastTaken ?? s.start);
      if (!drained || !s.exhausted) hasMore = true;
      // Not `exhausted`: rows committed since may follow scanPos, so the next page reads on from it.
      nextCarry[s.source] = {
        rows: s.buffer.slice(s.head),
        scanPos: s.scanPos,
        lastScannedAt: s.lastScannedAt,
      };
    }
    const shares: FeedCursor['shares'] = {};
    if (events.length > 0) {
      for (const s of streams) if (s.wanted) shares[s.source] = Math.round((1000 * s.taken) / events.length);
    }
    return {
      events,
      next: {
        since,
        positions,
        ...(events.length > 0 ? { shares } : {}),
        // A newer release's tables: carried through untouched (feed-cursor.ts).
        ...(cursor.foreign ? { foreign: cursor.foreign } : {}),
      },
      carry: nextCarry,
      hasMore,
      scanned,
    };
  }

  return { readFeedPage };
}

export type FeedService = ReturnType<typeof createFeedService>;
