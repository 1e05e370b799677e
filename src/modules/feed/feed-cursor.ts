/**
 * The feed cursor. Rules:
 * - Version 2 (this release) holds the next Seq to read in one log (modules/log/), the log it belongs
 *   to, and the `since` floor of the poll that started the chain. A version-1 cursor translated by the
 *   feed service also holds per-table floors: Seqs below which that table's entries were delivered
 *   already (skipped until the cursor has passed them all).
 * - Version 1 (releases 0.1.x) held a position `(txid, id)` per source table (see db/dialect.ts for
 *   txid) and the `since` floor; it decodes as a LegacyCursor and the feed service translates it to
 *   Seqs exactly (feed-service.ts). A table missing from it is read from its start.
 * - Wire form: base64url without padding of `JSON ‖ HMAC-SHA256(key, "itp.cursor.v1|" tenant "|" JSON)[0..16]`.
 *   The MAC, keyed by a per-installation secret and bound to the tenant, makes a forged, truncated or
 *   other tenant's cursor a 400, never a 500 or foreign data.
 *
 * Compatibility (a rolling upgrade mixes nodes of two releases behind one load balancer):
 * - Backward: a cursor of any earlier release decodes and continues exactly once. Release 0.1.0's
 *   cursors are kept as a fixture (test/fixtures/cursors-0.1.0.json) and decoded by a test.
 * - Forward: a position for a table this release does not know (added by a newer release) is carried
 *   through untouched into NextCursor, so the newer node that reads it next continues exactly there.
 *   Unknown top-level fields are ignored; unknown tables in the `r` hint are dropped (a hint only).
 * - A newer version `v` that this release cannot read is answered 503 `cursor_from_newer_release` with
 *   Retry-After (not a 400: the cursor is good, and a retry reaches an upgraded node), never by
 *   restarting the chain.
 * - The MAC's domain string stays "itp.cursor.v1|" for every version, so any release can tell a newer
 *   release's genuine cursor from a forged one. Versions only ever add.
 */
import crypto from 'node:crypto';
import { AppError } from '../../errors.js';
import { SOURCE_TABLES, type SourceTable } from '../audit/event-types.js';
import type { LogName } from '../log/log-leaf.js';

export interface FeedPosition {
  txid: number;
  id: number;
}

/** A version-2 cursor: where a chain stands in one log. */
export interface FeedCursor {
  v: 2;
  log: LogName;
  /** The Seq of the next entry to read. */
  next: number;
  since: number | null;
  /** From a translated version-1 cursor: per table, entries below this Seq were delivered already. */
  floors?: Partial<Record<SourceTable, number>>;
}

/** A version-1 cursor (per-table positions), as releases 0.1.x issued them. */
export interface LegacyCursor {
  v: 1;
  since: number | null;
  positions: Partial<Record<SourceTable, FeedPosition>>;
  /**
   * Each table's share (per mille) of the page that issued the cursor: a hint that sizes the next
   * page's first reads (correctness never depends on it). Absent on first polls and older cursors.
   */
  shares?: Partial<Record<SourceTable, number>>;
  /** Positions of tables a newer release added, carried through as they came (see the rules above). */
  foreign?: Record<string, [number, number]>;
}

const VERSION = 2;
const LOG_IDS: Record<LogName, number> = { trail: 0, polls: 1 };
const MAC_BYTES = 16;
const MAX_CURSOR_CHARS = 2048;
const KNOWN_TABLES = new Set<string>(SOURCE_TABLES.map((t) => t.name));

/** Fixed for every version (see the rules above). */
const MAC_DOMAIN = 'itp.cursor.v1|';
/** Names a newer release may give a table: what a carried position may be stored under. */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const MAX_FOREIGN = 32;

function mac(key: Buffer, tenantId: number, payload: Buffer): Buffer {
  return crypto
    .createHmac('sha256', key)
    .update(`${MAC_DOMAIN}${tenantId}|`)
    .update(payload)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function encodeCursor(cursor: FeedCursor, key: Buffer, tenantId: number): string {
  const body: Record<string, unknown> = {
    v: VERSION,
    l: LOG_IDS[cursor.log],
    n: cursor.next,
    s: cursor.since,
  };
  if (cursor.floors && Object.keys(cursor.floors).length > 0) body.f = cursor.floors;
  return sign(body, key, tenantId);
}

function sign(body: Record<string, unknown>, key: Buffer, tenantId: number): string {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return Buffer.concat([payload, mac(key, tenantId, payload)]).toString('base64url');
}

/** A version-1 cursor as release 0.1.x wrote it (kept to test and benchmark the translation). */
export function encodeLegacyCursor(cursor: Omit<LegacyCursor, 'v'>, key: Buffer, tenantId: number): string {
  const p: Record<string, [number, number]> = {};
  for (const { name } of SOURCE_TABLES) {
    const pos = cursor.positions[name];
    if (pos && (pos.txid !== 0 || pos.id !== 0)) p[name] = [pos.txid, pos.id];
  }
  for (const [name, pos] of Object.entries(cursor.foreign ?? {})) if (!(name in p)) p[name] = pos;
  const body: Record<string, unknown> = { v: 1, s: cursor.since, p };
  if (cursor.shares) body.r = cursor.shares;
  return sign(body, key, tenantId);
}

const invalid = () =>
  new AppError(
    'invalid_cursor',
    "cursor: not a cursor this feed issued (send the previous response's NextCursor verbatim, or omit cursor and use since for a first poll)",
  );

const isSeq = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function isPosition(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)
  );
}

export function decodeCursor(raw: string, key: Buffer, tenantId: number): FeedCursor | LegacyCursor {
  if (raw.length === 0 || raw.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid();
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length <= MAC_BYTES) throw invalid();
  const payload = bytes.subarray(0, bytes.length - MAC_BYTES);
  const given = bytes.subarray(bytes.length - MAC_BYTES);
  if (!crypto.timingSafeEqual(given, mac(key, tenantId, payload))) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!parsed || typeof parsed !== 'object') throw invalid();
  const { v, s, p, r, l, n, f } = parsed as Record<string, unknown>;
  if (typeof v === 'number' && Number.isInteger(v) && v > VERSION) {
    throw new AppError(
      'cursor_from_newer_release',
      'cursor: issued by a newer release of IT Portal (an upgrade is rolling out); retry the same request shortly',
      { 'Retry-After': '5' },
    );
  }
  if (s !== null && !(typeof s === 'number' && Number.isSafeInteger(s))) throw invalid();
  if (v === VERSION) {
    const log = l === 0 ? 'trail' : l === 1 ? 'polls' : null;
    if (!log || !isSeq(n)) throw invalid();
    const cursor: FeedCursor = { v: 2, log, next: n, since: s };
    if (f !== undefined) {
      if (!f || typeof f !== 'object' || Array.isArray(f)) throw invalid();
      const floors: FeedCursor['floors'] = {};
      for (const [name, value] of Object.entries(f as Record<string, unknown>)) {
        if (!KNOWN_TABLES.has(name) || !isSeq(value)) throw invalid();
        floors[name as SourceTable] = value;
      }
      cursor.floors = floors;
    }
    return cursor;
  }
  if (v !== 1) throw invalid();
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw invalid();
  const positions: LegacyCursor['positions'] = {};
  const foreign: Record<string, [number, number]> = {};
  for (const [name, value] of Object.entries(p as Record<string, unknown>)) {
    if (!isPosition(value)) throw invalid();
    if (KNOWN_TABLES.has(name)) positions[name as SourceTable] = { txid: value[0], id: value[1] };
    else if (TABLE_NAME.test(name) && Object.keys(foreign).length < MAX_FOREIGN) foreign[name] = value;
    else throw invalid();
  }
  const cursor: LegacyCursor = { v: 1, since: s, positions };
  if (Object.keys(foreign).length > 0) cursor.foreign = foreign;
  if (r === undefined) return cursor;
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw invalid();
  const shares: LegacyCursor['shares'] = {};
  for (const [name, value] of Object.entries(r as Record<string, unknown>)) {
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1000))
      throw invalid();
    if (KNOWN_TABLES.has(name)) shares[name as SourceTable] = value;
  }
  cursor.shares = shares;
  return cursor;
}
