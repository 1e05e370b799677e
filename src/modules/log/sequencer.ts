/**
 * The sequencer: gives every final event of a tenant its gap-free Seq in its log (SPEC §8).
 *
 * Invariants:
 * - One sequencer per (tenant, log) at a time, across every node: a batch runs in one transaction
 *   whose first statement updates the log's head row, so a second sequencer waits for the first to
 *   commit (PostgreSQL: the row lock; SQLite: the write lock) and then reads the head it left.
 * - A batch is all or nothing: entries, tree nodes and the new head (size, root, compact range, each
 *   source table's position) commit together. A crash or a killed connection mid-batch leaves the log
 *   as the last committed head describes it; the next batch starts from there, so no Seq is skipped
 *   or given twice (the primary key `(tenant_id, log, seq)` would refuse a second one anyway).
 * - Each source table is read in its `(txid, id)` order below the visibility horizon read in the
 *   batch (db/dialect.ts), from the head's position on: only final rows are sequenced, each once,
 *   and a row can never appear later behind a position (the feed's old guarantee, now paid once).
 * - Tables are interleaved by timestamp, as a merge of their heads: the batch takes the earliest head
 *   among the tables (ties: SOURCE_TABLES order) and stops when a table whose read was cut by the
 *   batch size has given all the rows it read (its next head is unknown). A table's rows need not be
 *   in time order within its `(txid, id)` order (clocks of several nodes, a bulk load), so the merge
 *   compares heads only; it always takes at least one table's whole read, so a batch never stalls.
 * - Seq order is fixed once committed: nothing ever rewrites an entry, a node or a lower head.
 *
 * When it runs: on every node, for a tenant whose request just ended (its events have committed),
 * within `tickMs`; on a sweep of every tenant every `sweepMs` (events written by the CLI or another
 * process); and on every poll, for one batch, so a poll never waits long for the final events.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../app-context.js';
import type { Database } from '../../db/connect.js';
import type { DB } from '../../db/schema.js';
import { createFeedStore, type StoredEvent } from '../feed/feed-store.js';
import type { FeedPosition } from '../feed/feed-cursor.js';
import { LOGS, SOURCE_INDEX, leafOf, type LogInfo, type LogName } from './log-leaf.js';
import { CompactRange, leafHash, type StoredNode } from './merkle.js';
import type { LogStore, NewEntry } from './log-store.js';

export const SEQUENCE_BATCH = 5000;

export interface BatchResult {
  /** Events sequenced by this batch. */
  appended: number;
  /** True when final events remained unread (the batch was cut by its size). */
  more: boolean;
}

export interface SequencerOptions {
  database: Pick<Database, 'db' | 'dialect'>;
  store: LogStore;
  clock: Clock;
  batchSize?: number;
  /** Test hook: called inside a batch's transaction, after its writes, before its commit. */
  beforeCommit?: (tenantId: number, log: LogName, trx: Kysely<DB>) => Promise<void>;
}

const isAfter = (a: FeedPosition, b: FeedPosition) => a.txid > b.txid || (a.txid === b.txid && a.id > b.id);

export function createSequencer({
  database,
  store,
  clock,
  batchSize = SEQUENCE_BATCH,
  beforeCommit,
}: SequencerOptions) {
  const { db, dialect } = database;
  const reader = createFeedStore({ db, dialect });

  /** True when some final event of the log has not been sequenced (no lock; a few index probes). */
  async function hasUnsequenced(tenantId: number, log: LogInfo): Promise<boolean> {
    const head = await store.readHead(tenantId, log.id);
    const horizon = await reader.readHorizon();
    for (const source of log.sources) {
      const rows = await reader.readAfter(
        tenantId,
        source,
        head.positions[source] ?? { txid: 0, id: 0 },
        1,
        horizon,
      );
      if (rows.length > 0) return true;
    }
    return false;
  }

  async function runBatch(tenantId: number, log: LogInfo): Promise<BatchResult> {
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const head = await store.lockHead(trx, tenantId, log.id, now);
      const source = createFeedStore({ db: trx as unknown as Kysely<DB>, dialect });
      const horizon = await source.readHorizon();
      const streams = await Promise.all(
        log.sources.map(async (name) => {
          const rows = await source.readAfter(
            tenantId,
            name,
            head.positions[name] ?? { txid: 0, id: 0 },
            batchSize,
            horizon,
          );
          return { name, rows, at: 0, cut: rows.length === batchSize };
        }),
      );
      // Merge by heads; stop once a table that has more to read has given all it read.
      const taken: StoredEvent[] = [];
      while (!streams.some((s) => s.cut && s.at === s.rows.length)) {
        let pick: (typeof streams)[number] | null = null;
        for (const s of streams) {
          const e = s.rows[s.at];
          if (e && (!pick || e.createdAt < pick.rows[pick.at]!.createdAt)) pick = s;
        }
        if (!pick) break;
        taken.push(pick.rows[pick.at]!);
        pick.at += 1;
      }
      const more = streams.some((s) => s.cut || s.at < s.rows.length);
      if (taken.length === 0) return { appended: 0, more };

      const range = CompactRange.fromJSON(head.size, head.frontier);
      const entries: NewEntry[] = [];
      const nodes: StoredNode[] = [];
      let watermark = head.watermark;
      let latestAt = head.latestAt;
      for (const e of taken) {
        const seq = range.size;
        const { leaf, eventType } = leafOf(e, seq);
        const hash = leafHash(leaf);
        for (const n of range.append(hash)) if (n.level > 0) nodes.push(n);
        watermark = Math.max(watermark, e.createdAt);
        latestAt = latestAt === null ? e.createdAt : Math.max(latestAt, e.createdAt);
        entries.push({
          seq,
          eventType,
          createdAt: e.createdAt,
          watermark,
          source: SOURCE_INDEX.get(e.source)!,
          sourceId: e.id,
          leaf,
          leafHash: hash,
        });
        const pos = { txid: e.txid, id: e.id };
        const old = head.positions[e.source];
        if (!old || isAfter(pos, old)) head.positions[e.source] = pos;
      }
      await store.append(
        trx,
        tenantId,
        log.id,
        entries,
        nodes,
        { ...head, size: range.size, root: range.root(), frontier: range.toJSON(), watermark, latestAt },
        now,
      );
      if (beforeCommit) await beforeCommit(tenantId, log.name, trx as unknown as Kysely<DB>);
      return { appended: taken.length, more };
    });
  }

  // One run at a time per (tenant, log) in this process, and at most one queued behind it: a caller
  // joins the queued run, which starts after the running one and so sees everything committed before
  // the call.
  const running = new Map<string, Promise<unknown>>();
  const queued = new Map<string, Promise<BatchResult>>();

  function schedule(tenantId: number, log: LogInfo, maxBatches: number): Promise<BatchResult> {
    const key = `${tenantId}:${log.id}`;
    const waiting = queued.get(key);
    if (waiting) return waiting;
    const before = running.get(key) ?? Promise.resolve();
    const run = before
      .catch(() => undefined)
      .then(async () => {
        queued.delete(key);
        running.set(key, run);
        let total = 0;
        let result: BatchResult = { appended: 0, more: false };
        if (!(await hasUnsequenced(tenantId, log))) return result;
        for (let i = 0; i < maxBatches; i++) {
          result = await runBatch(tenantId, log);
          total += result.appended;
          if (!result.more || result.appended === 0) break;
        }
        return { appended: total, more: result.more };
      })
      .finally(() => {
        if (running.get(key) === run) running.delete(key);
      });
    queued.set(key, run);
    return run;
  }

  return {
    /** Sequences what is final now, up to `maxBatches` batches; `more`: final events remain. */
    catchUp(tenantId: number, log: LogName, maxBatches = 1000): Promise<BatchResult> {
      return schedule(tenantId, LOGS[log], maxBatches);
    },
    runBatch: (tenantId: number, log: LogName) => runBatch(tenantId, LOGS[log]),
  };
}

export type Sequencer = ReturnType<typeof createSequencer>;

export interface SequencerScheduler {
  /** A request of this tenant ended: its events have committed. */
  wake(tenantId: number): void;
  start(onError: (err: unknown) => void): void;
  stop(): Promise<void>;
}

/** Runs the sequencer on this node: soon after a tenant's requests, and on a sweep of every tenant. */
export function createSequencerScheduler({
  sequencer,
  db,
  tickMs = 20,
  sweepMs = 1000,
}: {
  sequencer: Sequencer;
  db: Kysely<DB>;
  tickMs?: number;
  sweepMs?: number;
}): SequencerScheduler {
  const dirty = new Set<number>();
  let tick: NodeJS.Timeout | null = null;
  let sweep: NodeJS.Timeout | null = null;
  let busy: Promise<void> | null = null;
  let report: (err: unknown) => void = () => undefined;

  async function drainDirty() {
    const tenants = [...dirty];
    dirty.clear();
    for (const t of tenants) {
      for (const log of ['trail', 'polls'] as const) {
        const r = await sequencer.catchUp(t, log, 20);
        if (r.more) dirty.add(t);
      }
    }
  }

  function run(job: () => Promise<void>) {
    if (busy) return;
    busy = job()
      .catch((err) => report(err))
      .finally(() => {
        busy = null;
      });
  }

  return {
    wake(tenantId) {
      dirty.add(tenantId);
    },
    start(onError) {
      report = onError;
      tick = setInterval(() => {
        if (dirty.size > 0) run(drainDirty);
      }, tickMs);
      tick.unref();
      sweep = setInterval(() => {
        run(async () => {
          const tenants = await db.selectFrom('tenants').select('id').execute();
          for (const t of tenants) dirty.add(Number(t.id));
          await drainDirty();
        });
      }, sweepMs);
      sweep.unref();
    },
    async stop() {
      if (tick) clearInterval(tick);
      if (sweep) clearInterval(sweep);
      tick = sweep = null;
      await busy;
    },
  };
}
