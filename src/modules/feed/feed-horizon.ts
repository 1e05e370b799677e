/**
 * Whatever holds the feed's visibility horizon is observable (SPEC §3): a transaction of this database
 * that stays open (an idle-in-transaction session, a prepared transaction, a stuck batch job) delays
 * every tenant's feed while each poll answers HasMore: false. The monitor names it:
 * - `inspect()` answers how long the horizon has been held and by whom (for /metrics and /readyz);
 * - a timer logs one warning per holder once it has held for `warnAfterSeconds`.
 * Held time is the holder's transaction age when the catalog shows it; a holder the catalog does not
 * show (no privilege to see another role's session) is timed from when this node first saw it.
 */
import type { Database } from '../../db/connect.js';
import type { HorizonHolderRow } from '../../db/dialect.js';

export interface HorizonStatus {
  heldSeconds: number;
  holder: {
    pid: number | null;
    applicationName: string | null;
    state: string | null;
    database: string | null;
    prepared: boolean;
    transactionAgeSeconds: number | null;
  } | null;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

export function createHorizonMonitor(options: {
  database: Pick<Database, 'db' | 'dialect'>;
  clock: { now(): number };
  warnAfterSeconds: number;
}) {
  const { database, clock, warnAfterSeconds } = options;
  let seen: { xid: number; since: number } | null = null;
  let warnedXid: number | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function inspect(): Promise<HorizonStatus> {
    const { rows } = await database.dialect.horizonHolder().execute(database.db);
    const row: HorizonHolderRow | undefined = rows[0];
    const now = clock.now();
    if (!row) {
      seen = null;
      return { heldSeconds: 0, holder: null };
    }
    if (seen?.xid !== row.xid) seen = { xid: row.xid, since: now };
    const ageMs = row.ageMs === null ? null : Math.max(0, Number(row.ageMs));
    const heldMs = ageMs ?? now - seen.since;
    return {
      heldSeconds: Math.round(heldMs / 100) / 10,
      holder: {
        pid: row.pid,
        applicationName: row.applicationName,
        state: row.state,
        database: row.database,
        prepared: Boolean(row.prepared),
        transactionAgeSeconds: ageMs === null ? null : Math.round(ageMs / 100) / 10,
      },
    };
  }

  async function check(log: Logger): Promise<void> {
    const status = await inspect();
    if (!status.holder || status.heldSeconds < warnAfterSeconds || warnedXid === seen?.xid) return;
    warnedXid = seen?.xid ?? null;
    log.warn(
      { horizon: status },
      `the SIEM feed is held back: a transaction of this database has been open for ${status.heldSeconds} s ` +
        `(pid ${status.holder.pid ?? 'unknown'}, application "${status.holder.applicationName ?? ''}", ` +
        `state ${status.holder.state ?? 'unknown'}); events committed after it started reach the feed only ` +
        'once it ends (docs/troubleshooting.md: "The feed is held back")',
    );
  }

  return {
    inspect,
    /** Starts the warning timer (unref'd: it never keeps the process alive). */
    start(log: Logger) {
      if (timer || !database.dialect.concurrentWriters) return;
      const everyMs = Math.min(10_000, Math.max(250, (warnAfterSeconds * 1000) / 4));
      timer = setInterval(() => void check(log).catch(() => undefined), everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

export type HorizonMonitor = ReturnType<typeof createHorizonMonitor>;
