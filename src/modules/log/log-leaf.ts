/**
 * An event's leaf and its wire form (SPEC §8).
 *
 * - Leaf = RFC 8785 (JCS) canonical JSON of the envelope (SPEC §2) with `Seq`, without the derived
 *   `Category` and `Controls`, UTF-8. Written once, when the sequencer gives the event its Seq.
 * - Wire form = the leaf with `"Category":…,"Controls":[…]` put back, where JCS's key order puts
 *   them: right after `Actor` (keys sort Actor, Category, Controls, Details, …). The first
 *   `,"Details":` of a leaf is the top-level one: `Actor` holds no Details key, and inside a JSON
 *   string a `"` is always escaped, so `,"` never occurs there. A page is then the leaves joined,
 *   with no parse or stringify per event; a SIEM's copy is its leaf plus two derived fields.
 * - `leafOfRecord` undoes it for a verifier: cut the two fields out where the server put them and, when
 *   the record is not in that shape (a SIEM re-serialized it), canonicalize it afresh.
 */
import canonicalizeModule from 'canonicalize';
import { EVENT_TYPE_LIST, SOURCE_TABLES, eventTypeInfo, type SourceTable } from '../audit/event-types.js';
import { presentEvent } from '../feed/feed-presenter.js';
import type { StoredEvent } from '../feed/feed-store.js';

// The package is CommonJS whose typings declare an ES default export: the default import is the
// function itself under Node, and `.default` of it under the typings' reading.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

export type LogName = 'trail' | 'polls';

export interface LogInfo {
  name: LogName;
  /** The `log` column's value. */
  id: number;
  sources: readonly SourceTable[];
}

const pollSources = new Set(EVENT_TYPE_LIST.filter((t) => !t.inDefaultFeed).map((t) => t.source));

/** The trail: every type of the default feed; the poll log: the audit of the audit (SPEC §8). */
export const LOGS: Readonly<Record<LogName, LogInfo>> = {
  trail: {
    name: 'trail',
    id: 0,
    sources: SOURCE_TABLES.map((t) => t.name).filter((n) => !pollSources.has(n)),
  },
  polls: {
    name: 'polls',
    id: 1,
    sources: SOURCE_TABLES.map((t) => t.name).filter((n) => pollSources.has(n)),
  },
};

export const SOURCE_INDEX: ReadonlyMap<SourceTable, number> = new Map(
  SOURCE_TABLES.map((t, i) => [t.name, i]),
);

export function sourceAt(index: number): SourceTable {
  const entry = SOURCE_TABLES[index];
  if (!entry) throw new Error(`unknown source index ${index}`);
  return entry.name;
}

/** The leaf of a stored event at `seq`, and the type it surfaces as. */
export function leafOf(e: StoredEvent, seq: number): { leaf: string; eventType: string } {
  const { Category: _c, Controls: _k, ...rest } = presentEvent(e);
  return { leaf: canonicalize({ ...rest, Seq: seq })!, eventType: rest.EventType };
}

const DETAILS = ',"Details":';
const derivedText = new Map(
  EVENT_TYPE_LIST.map((t) => [
    t.type,
    `,"Category":${JSON.stringify(t.category)},"Controls":${JSON.stringify(t.controls)}`,
  ]),
);

/** The wire envelope (JSON text) of a leaf: the leaf with the type's Category and Controls. */
export function wireOfLeaf(leaf: string, eventType: string): string {
  const at = leaf.indexOf(DETAILS);
  const derived = derivedText.get(eventType) ?? derivedText.get(eventTypeInfo(eventType).type)!;
  return at < 0 ? leaf : leaf.slice(0, at) + derived + leaf.slice(at);
}

/**
 * The leaf a record received from the feed stands for: the server's text with the derived fields
 * cut out when it is in the server's shape (fast; exact bytes), else the canonical JSON of the parsed
 * record without them (a SIEM that re-serialized its copy).
 */
export function leafOfRecord(line: string, parsed: Record<string, unknown>): string {
  const start = line.indexOf(',"Category":');
  const end = line.indexOf(DETAILS);
  if (start > 0 && end > start && line.startsWith('{"Actor":')) {
    const cut = line.slice(0, start) + line.slice(end);
    return cut;
  }
  return canonicalLeaf(parsed);
}

export function canonicalLeaf(parsed: Record<string, unknown>): string {
  const { Category: _c, Controls: _k, ...rest } = parsed;
  return canonicalize(rest)!;
}
