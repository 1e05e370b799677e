/**
 * RFC 8785 (JCS) canonical JSON for the plain JSON data of an envelope, fast.
 *
 * JCS is the engine's `JSON.stringify` (its string escaping and number form are RFC 8785 §3.2.2's)
 * with every object's keys sorted by UTF-16 code units. So: rebuild each object with its keys in that
 * order, then stringify once, natively. The one exception is a key that looks like an array index
 * ("0", "17"): JavaScript enumerates those first, in numeric order, whatever the insertion order, so
 * such an object goes to the general implementation (the `canonicalize` package, RFC 8785's own
 * reference algorithm in JavaScript). jcs.test.ts checks both agree on arbitrary JSON.
 */
import canonicalizeModule from 'canonicalize';

// The package is CommonJS whose typings declare an ES default export: the default import is the
// function itself under Node, and `.default` of it under the typings' reading.
type Canonicalize = (input: unknown) => string | undefined;
export const canonicalizeReference: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/** Array-index-like: a canonical decimal below 2^32 − 1, which objects enumerate first. */
const INDEX_LIKE = /^(?:0|[1-9][0-9]{0,9})$/;

/** The value needs the general implementation (an index-like key, or a toJSON method). */
class IndexLikeKey extends Error {}

function sorted(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError('RFC 8785 has no form for NaN or an infinite number');
  }
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw new IndexLikeKey();
  if (Array.isArray(value)) return value.map(sorted);
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source).sort();
  // No prototype: a "__proto__" key is then an own property like any other, not the prototype.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of keys) {
    if (INDEX_LIKE.test(key) && Number(key) < 4294967295) throw new IndexLikeKey();
    const v = source[key];
    if (v !== undefined) out[key] = sorted(v);
  }
  return out;
}

/** The JCS text of plain JSON data (what JSON.parse returns, or objects built of such values). */
export function jcs(value: unknown): string {
  try {
    return JSON.stringify(sorted(value));
  } catch (err) {
    if (err instanceof IndexLikeKey) return canonicalizeReference(value)!;
    throw err;
  }
}
