/**
 * A feed page as it goes on the wire (SPEC §3), in the format asked for (SPEC §9):
 * `{"Events":[…],"NextCursor":…,"HasMore":…,"Checkpoint":…}` whatever the format, so the page shape
 * and the cursor never depend on it.
 *
 * - json: each entry's leaf with its derived fields put back (log-leaf.ts), written as bytes, with no
 *   parse or stringify per event (the fast path: most pollers ask for it).
 * - any other format: the same envelope parsed once and handed to the format's presenter; an object
 *   format's record is its JSON text, a text format's record a JSON string.
 * gzip level 1 (a tenth of the size at a fifth of level 6's CPU), on libuv's pool.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { spliceOfLeaf, wireOfLeaf } from '../log/log-leaf.js';
import type { LogEntryRow } from '../log/log-store.js';
import type { PreparedBody } from './feed-read-ahead.js';
import type { Presenter, PresentContext, WireEvent } from './presenters/index.js';

const gzipAsync = promisify(zlib.gzip);

export interface PageParts {
  events: readonly Pick<LogEntryRow, 'leaf' | 'eventType'>[];
  nextCursor: string;
  hasMore: boolean;
  checkpoint: string;
}

/** The `Events` array's members of a non-json format, as JSON text, one per entry. */
function presentEntries(events: PageParts['events'], presenter: Presenter, ctx: PresentContext): string[] {
  const out = new Array<string>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const wire = wireOfLeaf(e.leaf ?? '{}', e.eventType);
    out[i] = JSON.stringify(presenter.present(JSON.parse(wire) as WireEvent, ctx));
  }
  return out;
}

/**
 * The page as UTF-8 bytes, written once into a buffer of its exact size: every piece is encoded
 * straight into it. Joining 5,000 strings and encoding the 2.6 MB result (`Buffer.from` flattens it
 * first) cost a json page more than its database read (bench/feed.ts); here a json entry is its leaf's
 * two halves with the derived text between them, never a string of its own.
 */
export function pageBytes(page: PageParts, presenter: Presenter, ctx: PresentContext): Buffer {
  const head = '{"Events":[';
  const tail = `],"NextCursor":${JSON.stringify(page.nextCursor)},"HasMore":${page.hasMore},"Checkpoint":${JSON.stringify(page.checkpoint)}}`;
  const n = page.events.length;
  // Per entry: its text (the leaf, or the record) and, for json, where its derived text goes.
  const texts = new Array<string>(n);
  const splices = presenter.format === 'json' ? new Array<{ at: number; derived: string }>(n) : null;
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, n - 1);
  if (splices) {
    for (let i = 0; i < n; i++) {
      const e = page.events[i]!;
      const leaf = e.leaf ?? '{}';
      const splice = spliceOfLeaf(leaf, e.eventType);
      texts[i] = leaf;
      splices[i] = splice;
      size += Buffer.byteLength(leaf) + (splice.at < 0 ? 0 : derivedBytes(splice.derived).length);
    }
  } else {
    const records = presentEntries(page.events, presenter, ctx);
    for (let i = 0; i < n; i++) {
      texts[i] = records[i]!;
      size += Buffer.byteLength(records[i]!);
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.write(head, 0);
  for (let i = 0; i < n; i++) {
    if (i > 0) out[o++] = 0x2c; // ,
    const text = texts[i]!;
    const splice = splices?.[i];
    if (!splice || splice.at < 0) {
      o += out.write(text, o);
    } else {
      o += out.write(text.slice(0, splice.at), o);
      o += derivedBytes(splice.derived).copy(out, o);
      o += out.write(text.slice(splice.at), o);
    }
  }
  o += out.write(tail, o);
  if (o !== size) throw new Error(`page bytes: wrote ${o} of ${size}`);
  return out;
}

/** The derived texts as bytes, each encoded once (a handful: one per type and target). */
const derivedCache = new Map<string, Buffer>();
function derivedBytes(text: string): Buffer {
  let bytes = derivedCache.get(text);
  if (!bytes) derivedCache.set(text, (bytes = Buffer.from(text, 'utf8')));
  return bytes;
}

/**
 * The page's body, gzipped (level 1, on libuv's pool) whenever asked (SPEC §3: "gzip when asked"),
 * a small page too: a poller that asked for gzip may count on it.
 */
export async function serializePage(
  page: PageParts,
  presenter: Presenter,
  ctx: PresentContext,
  gzip: boolean,
): Promise<PreparedBody> {
  const bytes = pageBytes(page, presenter, ctx);
  if (!gzip) return { payload: bytes, gzip: false };
  return { payload: await gzipAsync(bytes, { level: 1 }), gzip: true };
}
