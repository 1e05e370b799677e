/**
 * The feed cursor. Rules:
 * - It holds a position `(txid, id)` per source table (see db/dialect.ts for txid) plus the `since`
 *   floor of the poll that started the chain, so a table not yet reached still honours `since`.
 *   A table missing from a cursor (one added after the cursor was issued) is read from its start.
 * - Wire form: base64url without padding of `JSON ‖ HMAC-SHA256(key, "itp.cursor.v1|" tenant "|" JSON)[0..16]`.
 *   The version `v` lets the format evolve; the MAC, keyed by a per-installation secret and bound to the
 *   tenant, makes a forged, truncated or other tenant's cursor a 400, never a 500 or foreign data.
 */
import crypto from 'node:crypto';
import { AppError } from '../../errors.js';
import { SOURCE_TABLES, type SourceTable } from '../audit/event-types.js';

export interface FeedPosition {
  txid: number;
  id: number;
}

export interface FeedCursor {
  since: number | null;
  positions: Partial<Record<SourceTable, FeedPosition>>;
  /**
   * Each table's share (per mille) of the page that issued the cursor: a hint that sizes the next
   * page's first reads (correctness never depends on it). Absent on first polls and older cursors.
   */
  shares?: Partial<Record<SourceTable, number>>;
}

const VERSION = 1;
const MAC_BYTES = 16;
const MAX_CURSOR_CHARS = 2048;
const KNOWN_TABLES = new Set<string>(SOURCE_TABLES.map((t) => t.name));

function mac(key: Buffer, tenantId: number, payload: Buffer): Buffer {
  return crypto
    .createHmac('sha256', key)
    .update(`itp.cursor.v${VERSION}|${tenantId}|`)
    .update(payload)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function encodeCursor(cursor: FeedCursor, key: Buffer, tenantId: number): string {
  const p: Record<string, [number, number]> = {};
  for (const { name } of SOURCE_TABLES) {
    const pos = cursor.positions[name];
    if (pos && (pos.txid !== 0 || pos.id !== 0)) p[name] = [pos.txid, pos.id];
  }
  const body: Record<string, unknown> = { v: VERSION, s: cursor.since, p };
  if (cursor.shares) body.r = cursor.shares;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return Buffer.concat([payload, mac(key, tenantId, payload)]).toString('base64url');
}

const invalid = () =>
  new AppError(
    'invalid_cursor',
    "cursor: not a cursor this feed issued (send the previous response's NextCursor verbatim, or omit cursor and use since for a first poll)",
  );

function isPosition(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)
  );
}

export function decodeCursor(raw: string, key: Buffer, tenantId: number): FeedCursor {
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
  const { v, s, p, r } = parsed as { v?: unknown; s?: unknown; p?: unknown; r?: unknown };
  if (v !== VERSION) throw invalid();
  if (s !== null && !(typeof s === 'number' && Number.isSafeInteger(s))) throw invalid();
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw invalid();
  const positions: FeedCursor['positions'] = {};
  for (const [name, value] of Object.entries(p as Record<string, unknown>)) {
    if (!KNOWN_TABLES.has(name) || !isPosition(value)) throw invalid();
    positions[name as SourceTable] = { txid: value[0], id: value[1] };
  }
  if (r === undefined) return { since: s, positions };
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw invalid();
  const shares: FeedCursor['shares'] = {};
  for (const [name, value] of Object.entries(r as Record<string, unknown>)) {
    if (
      !KNOWN_TABLES.has(name) ||
      !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1000)
    ) {
      throw invalid();
    }
    shares[name as SourceTable] = value;
  }
  return { since: s, positions, shares };
}
