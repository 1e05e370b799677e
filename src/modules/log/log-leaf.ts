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
 *   Controls depend on the type and, for some types, on Target.Type (event-types.ts controlsOf): that
 *   is read from the leaf's text too (targetTypeOfText), still without a parse.
 * - `leafOfServerLine` undoes it for a verifier: cut the two fields out where the server put them and, when
 *   the record is not in that shape (a SIEM re-serialized it), canonicalize it afresh.
 */
import { EVENT_TYPE_LIST, SOURCE_TABLES, eventTypeInfo, type SourceTable } from '../audit/event-types.js';
import { presentEvent } from '../feed/feed-presenter.js';
import type { StoredEvent } from '../feed/feed-store.js';
import canonicalizeModule from 'canonicalize';

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
const derivedOf = (category: string, controls: readonly string[]) =>
  `,"Category":${JSON.stringify(category)},"Controls":${JSON.stringify(controls)}`;
/** Per type: its derived text, and for a type whose controls depend on Target.Type, the text per target. */
const derivedText = new Map(EVENT_TYPE_LIST.map((t) => [t.type, derivedOf(t.category, t.controls)]));
const derivedByTarget = new Map(
  EVENT_TYPE_LIST.filter((t) => t.controlsByTarget).map((t) => [
    t.type,
    new Map(Object.entries(t.controlsByTarget!).map(([target, c]) => [target, derivedOf(t.category, c)])),
  ]),
);

const TARGET = ',"Target":{';
const TARGET_TYPE = ',"Type":"';

/**
 * The top-level Target.Type of a leaf or server line, without parsing it. JCS sorts Target after
 * Details and its keys as Id, Name, Type; after Details come only fixed-key objects and strings, in
 * which `,"` cannot occur (quotes are escaped), so the last `,"Target":{` is the top-level one and the
 * first `,"Type":"` after it is its Type. Null when Type is null (or the text is in another shape).
 */
export function targetTypeOfText(text: string): string | null {
  const at = text.lastIndexOf(TARGET);
  if (at < 0) return null;
  const t = text.indexOf(TARGET_TYPE, at + TARGET.length);
  if (t < 0) return null;
  const from = t + TARGET_TYPE.length;
  const end = text.indexOf('"', from);
  return end < 0 ? null : text.slice(from, end);
}

/** The derived text for an event of this type whose leaf (or line) is `text`. */
function derivedFor(eventType: string, text: string): string | undefined {
  const byTarget = derivedByTarget.get(eventType);
  if (byTarget) {
    const target = targetTypeOfText(text);
    const own = target === null ? undefined : byTarget.get(target);
    if (own !== undefined) return own;
  }
  return derivedText.get(eventType);
}

/**
 * Where a leaf's derived text goes and what it is: the wire envelope is `leaf.slice(0, at) + derived +
 * leaf.slice(at)`, or the leaf itself when `at` is -1 (a leaf in another shape, e.g. `{}`).
 */
export function spliceOfLeaf(leaf: string, eventType: string): { at: number; derived: string } {
  const type = derivedText.has(eventType) ? eventType : eventTypeInfo(eventType).type;
  return { at: leaf.indexOf(DETAILS), derived: derivedFor(type, leaf)! };
}

/** The wire envelope (JSON text) of a leaf: the leaf with the type's Category and Controls. */
export function wireOfLeaf(leaf: string, eventType: string): string {
  const { at, derived } = spliceOfLeaf(leaf, eventType);
  return at < 0 ? leaf : leaf.slice(0, at) + derived + leaf.slice(at);
}

const CATEGORY = ',"Category":';
const EVENT_TYPE = ',"EventType":"';
const SEQ = ',"Seq":';

/**
 * A line exactly as the server wrote it (`siem pull` keeps the bytes): its leaf, Seq and type without
 * parsing it, or null when it is in another shape (then parse it and use canonicalLeaf).
 *
 * Sound for a verifier because the leaf is hashed as cut: when its hash reaches a signed root, the
 * leaf is the server's byte for byte, and the cut-out part was checked to be exactly the derived text
 * of the type, so the whole line is the server's. `lastIndexOf` finds the top-level EventType and Seq:
 * after them come only fixed-key objects and strings, in which `,"` cannot occur (quotes are escaped),
 * while Details, before them, may hold such keys at any depth.
 */
export function leafOfServerLine(line: string): { leaf: string; seq: number; eventType: string } | null {
  if (!line.startsWith('{"Actor":') || !line.endsWith('}')) return null;
  const start = line.indexOf(CATEGORY);
  const end = line.indexOf(DETAILS, start);
  if (start < 0 || end < 0) return null;
  const t = line.lastIndexOf(EVENT_TYPE);
  if (t < end) return null;
  const eventType = line.slice(t + EVENT_TYPE.length, line.indexOf('"', t + EVENT_TYPE.length));
  const derived = derivedFor(eventType, line);
  if (derived === undefined || line.slice(start, end) !== derived) return null;
  const q = line.lastIndexOf(SEQ);
  if (q < t) return null;
  let seq = 0;
  let i = q + SEQ.length;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
  }
  if (i === q + SEQ.length || line.charCodeAt(i) !== 44 /* , */ || i - (q + SEQ.length) > 15) return null;
  return { leaf: line.slice(0, start) + line.slice(end), seq, eventType };
}

const B = (t: string) => Buffer.from(t, 'utf8');
const ACTOR_B = B('{"Actor":');
const CATEGORY_B = B(CATEGORY);
const DETAILS_B = B(DETAILS);
const EVENT_TYPE_B = B(EVENT_TYPE);
const SEQ_B = B(SEQ);
const derivedBytes = new Map([...derivedText].map(([type, text]) => [type, B(text)]));
const derivedBytesByTarget = new Map(
  [...derivedByTarget].map(([type, m]) => [type, new Map([...m].map(([target, text]) => [target, B(text)]))]),
);
const TARGET_B = B(TARGET);
const TARGET_TYPE_B = B(TARGET_TYPE);

/** derivedFor on a line's bytes (its Target.Type found as targetTypeOfText finds it). */
function derivedBytesFor(eventType: string, line: Buffer): Buffer | undefined {
  const byTarget = derivedBytesByTarget.get(eventType);
  if (byTarget) {
    const at = line.lastIndexOf(TARGET_B);
    const t = at < 0 ? -1 : line.indexOf(TARGET_TYPE_B, at + TARGET_B.length);
    const from = t + TARGET_TYPE_B.length;
    const end = t < 0 ? -1 : line.indexOf(0x22, from);
    const own = end < 0 ? undefined : byTarget.get(line.toString('latin1', from, end));
    if (own !== undefined) return own;
  }
  return derivedBytes.get(eventType);
}
let scratch = Buffer.alloc(64 * 1024);

/**
 * leafOfServerLine on the line's bytes (no UTF-8 decoding): the leaf's hash input `0x00 ‖ leaf`,
 * valid until the next call, with the Seq; null when the line is in another shape.
 */
export function leafInputOfServerLine(line: Buffer): { input: Buffer; seq: number } | null {
  const n = line.length;
  if (
    n < ACTOR_B.length ||
    line[n - 1] !== 0x7d ||
    line.compare(ACTOR_B, 0, ACTOR_B.length, 0, ACTOR_B.length) !== 0
  )
    return null;
  const start = line.indexOf(CATEGORY_B);
  const end = start < 0 ? -1 : line.indexOf(DETAILS_B, start);
  if (end < 0) return null;
  const t = line.lastIndexOf(EVENT_TYPE_B);
  if (t < end) return null;
  const typeAt = t + EVENT_TYPE_B.length;
  const typeEnd = line.indexOf(0x22, typeAt);
  const derived = derivedBytesFor(line.toString('latin1', typeAt, typeEnd), line);
  if (
    derived === undefined ||
    end - start !== derived.length ||
    line.compare(derived, 0, derived.length, start, end) !== 0
  )
    return null;
  const q = line.lastIndexOf(SEQ_B);
  if (q < typeEnd) return null;
  let seq = 0;
  let i = q + SEQ_B.length;
  for (; i < n; i++) {
    const c = line[i]! - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
  }
  if (i === q + SEQ_B.length || line[i] !== 0x2c || i - (q + SEQ_B.length) > 15) return null;
  const size = 1 + n - (end - start);
  if (scratch.length < size) scratch = Buffer.alloc(size * 2);
  scratch[0] = 0;
  line.copy(scratch, 1, 0, start);
  line.copy(scratch, 1 + start, end, n);
  return { input: scratch.subarray(0, size), seq };
}

export function canonicalLeaf(parsed: Record<string, unknown>): string {
  const { Category: _c, Controls: _k, ...rest } = parsed;
  return canonicalize(rest)!;
}
