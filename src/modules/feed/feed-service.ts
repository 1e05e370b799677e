/**
 * One page of the feed: a range of one log (modules/log/) read by Seq.
 *
 * Rules:
 * - The default feed reads the trail; `eventType=Audit.SiemPoll` reads the poll log alone. A cursor
 *   belongs to the log it was issued for.
 * - Before reading, the poll runs one sequencer batch for its log, so final events that no wake-up
 *   has sequenced yet are on this page or the next (HasMore stays true while some remain); a page
 *   that sequenced entries alone fill, ending below the head, skips it (HasMore is true anyway).
 * - A page holds the entries with `next <= Seq < head size` that match the filter, in Seq order, at
 *   most `limit`. Its NextCursor is one past the last entry read, or the head size when the read ran
 *   out before `limit`: everything below it was read or filtered away, and entries are never added
 *   below a head (sequencer.ts), so following NextCursor repeats and skips nothing.
 * - An eventType filter reads each requested type's index range on its own: work in proportion to
 *   the matches, however sparse. `since` seeks, on a first poll, to the first Seq at or after it
 *   (one probe of the watermark index) and stays a floor for the chain (a late commit's older event
 *   is still filtered).
 * - A version-1 cursor (per-table positions) is translated, exactly: for each table, the Seq of its
 *   first row after the position (every earlier entry of that table was delivered, later ones were
 *   not: a table's entries are sequenced in its position order). The chain starts at the smallest of
 *   these and skips a table's entries below its own floor until all floors are passed.
 * - Every page carries a checkpoint of the log at size NextCursor's Seq, so a SIEM holding the
 *   chain from Seq 0 can recompute every root it was given.
 */
import { EVENT_TYPE_LIST, type SourceTable } from '../audit/event-types.js';
import { LOGS, SOURCE_INDEX, sourceAt, type LogName } from '../log/log-leaf.js';
import type { LogEntryRow, LogHead, LogStore } from '../log/log-store.js';
import { rootAt, type Hash } from '../log/merkle.js';
import type { Sequencer } from '../log/sequencer.js';
import { AppError } from '../../errors.js';
import type { FeedCursor, LegacyCursor } from './feed-cursor.js';
import type { FeedStore } from './feed-store.js';

export const MAX_LIMIT = 5000;

/** Where a page of a read-ahead chain starts. */
export type FeedResume = FeedCursor | LegacyCursor;

export interface FeedPageRequest {
  tenantId: number;
  cursor: FeedResume;
  /** True on a first poll (no cursor): `since` then seeks. */
  fresh?: boolean;
  limit: number;
  /** Event types to return; the default feed's set when the poll names none. */
  eventTypes: ReadonlySet<string>;
}

export interface FeedPage {
  log: LogName;
  events: LogEntryRow[];
  next: FeedCursor;
  hasMore: boolean;
  /** The log at size `next.next`: what the page's checkpoint signs. */
  tree: { size: number; root: Hash };
  /** The log's head when the page was read. */
  headSize: number;
}

export const DEFAULT_FEED_TYPES: ReadonlySet<string> = new Set(
  EVENT_TYPE_LIST.filter((t) => t.inDefaultFeed).map((t) => t.type),
);

const TYPES_OF_LOG: Record<LogName, readonly string[]> = {
  trail: EVENT_TYPE_LIST.filter((t) => LOGS.trail.sources.includes(t.source)).map((t) => t.type),
  polls: EVENT_TYPE_LIST.filter((t) => LOGS.polls.sources.includes(t.source)).map((t) => t.type),
};

/** The log a set of types is read from; types of both logs at once are a 400 (SPEC §8). */
export function logOfTypes(types: ReadonlySet<string>): LogName {
  const logs = new Set<LogName>();
  for (const t of types) logs.add(TYPES_OF_LOG.polls.includes(t) ? 'polls' : 'trail');
  if (logs.size > 1) {
    throw new AppError(
      'invalid_event_type',
      'eventType: Audit.SiemPoll is read from the poll log on its own; poll it in its own chain, not together with other types',
    );
  }
  return logs.has('polls') ? 'polls' : 'trail';
}

export function createFeedService({
  store,
  log: logStore,
  sequencer,
}: {
  store: Pick<FeedStore, 'readAfter'>;
  log: LogStore;
  sequencer: Pick<Sequencer, 'catchUp'>;
}) {
  /** A version-1 cursor as Seqs (see the rules at the top). */
  async function translate(tenantId: number, log: LogName, legacy: LegacyCursor, headSize: number) {
    const floors: Partial<Record<SourceTable, number>> = {};
    for (const source of LOGS[log].sources) {
      const after = legacy.positions[source] ?? { txid: 0, id: 0 };
      // Any committed row, final or not: if it is not sequenced, no later row of its table is.
      const [row] = await store.readAfter(tenantId, source, after, 1, { txid: Number.MAX_SAFE_INTEGER });
      const seq = row ? await logStore.seqOfSource(tenantId, sourceIndex(source), row.id) : null;
      floors[source] = seq ?? headSize;
    }
    const next = Math.min(headSize, ...Object.values(floors));
    for (const [name, floor] of Object.entries(floors)) if (floor <= next) delete floors[name as SourceTable];
    const cursor: FeedCursor = { v: 2, log, next, since: legacy.since };
    if (Object.keys(floors).length > 0) cursor.floors = floors;
    return cursor;
  }

  async function readFeedPage(req: FeedPageRequest): Promise<FeedPage> {
    const { tenantId, limit, eventTypes } = req;
    const log = logOfTypes(eventTypes);
    if (req.cursor.v === 2 && req.cursor.log !== log) {
      throw new AppError(
        'invalid_cursor',
        `cursor: issued for the ${req.cursor.log === 'polls' ? 'poll log (eventType=Audit.SiemPoll)' : 'trail (the default feed)'}; send it with the same eventType it was issued for`,
      );
    }
    const all = TYPES_OF_LOG[log].every((t) => eventTypes.has(t));
    const types = all ? null : TYPES_OF_LOG[log].filter((t) => eventTypes.has(t));
    const read = (cursor: FeedCursor, head: LogHead) =>
      logStore.readEntries(tenantId, LOGS[log].id, {
        from: cursor.next,
        to: head.size,
        limit,
        types,
        since: cursor.since,
      });
    // A page that sequenced entries fill (`limit` of them, read below the head with more after them)
    // ends below the head: HasMore is true whatever is still unsequenced, so the sequencer's batch (six
    // queries, one of them the horizon's scan of pg_stat_activity) can wait for the wake-ups and the
    // next poll near the head. Tried on a backlog of more than a page without a type filter (a `since`
    // floor rarely drops anything after the first page); a page that comes out short is read again
    // after the batch, as every other page is.
    const filled = async () => {
      const cursor = req.cursor;
      if (cursor.v !== 2 || cursor.floors || types !== null || (req.fresh && cursor.since !== null))
        return null;
      const head = await logStore.readHead(tenantId, LOGS[log].id);
      if (head.size - cursor.next <= limit) return null;
      const rows = await read(cursor, head);
      const full = rows.length === limit && rows[limit - 1]!.seq + 1 < head.size;
      return full ? { cursor, rows, head, sequenced: { more: false } } : null;
    };
    const afterBatch = async () => {
      const sequenced = await sequencer.catchUp(tenantId, log, 1);
      const head = await logStore.readHead(tenantId, LOGS[log].id);
      let cursor = req.cursor.v === 2 ? req.cursor : await translate(tenantId, log, req.cursor, head.size);
      if (req.fresh && cursor.since !== null) {
        const first = await logStore.firstSeqSince(tenantId, LOGS[log].id, cursor.since);
        cursor = { ...cursor, next: Math.max(cursor.next, first ?? head.size) };
      }
      return { cursor, rows: await read(cursor, head), head, sequenced };
    };
    const { cursor, rows, head, sequenced } = (await filled()) ?? (await afterBatch());
    const next = rows.length === limit ? rows[rows.length - 1]!.seq + 1 : Math.max(cursor.next, head.size);
    const floors = cursor.floors;
    const events = floors
      ? rows.filter((r) => {
          const floor = floors[sourceAt(r.source)];
          return floor === undefined || r.seq >= floor;
        })
      : rows;
    const nextCursor: FeedCursor = { v: 2, log, next, since: cursor.since };
    if (floors) {
      const left = Object.fromEntries(Object.entries(floors).filter(([, f]) => f > next));
      if (Object.keys(left).length > 0) nextCursor.floors = left;
    }
    // A cursor past this head (a database restored from an older backup) gets the head's checkpoint.
    const size = Math.min(next, head.size);
    const root =
      size === head.size
        ? head.root
        : await rootAt(size, (keys) => logStore.readNodes(tenantId, LOGS[log].id, keys));
    return {
      log,
      events,
      next: nextCursor,
      hasMore: next < head.size || sequenced.more,
      tree: { size, root },
      headSize: head.size,
    };
  }

  return { readFeedPage };
}

function sourceIndex(source: SourceTable): number {
  return SOURCE_INDEX.get(source)!;
}

export type FeedService = ReturnType<typeof createFeedService>;
