import { describe, expect, it } from 'vitest';
import { leafOf, wireOfLeaf } from '../log/log-leaf.js';
import { pageBytes, type PageParts } from './feed-body.js';
import { PRESENTERS, type WireEvent } from './presenters/index.js';
import { SAMPLE_CONTEXT, sampleRows } from '../../../test/wire-samples.js';

/** The page as one string, the way it was built before pageBytes (and the way a reader joins it). */
function joinedText(page: PageParts, records: string[]): string {
  return `{"Events":[${records.join(',')}],"NextCursor":${JSON.stringify(page.nextCursor)},"HasMore":${page.hasMore},"Checkpoint":${JSON.stringify(page.checkpoint)}}`;
}

/** Every type and target of the samples, whose values hold astral characters (UTF-16 length, UTF-8
 * length and code points all differ), and, for json, a purged leaf (SPEC §12: text gone, hash kept). */
function page(purged = true): PageParts {
  const events: PageParts['events'][number][] = sampleRows().map((row, seq) => leafOf(row, seq));
  if (purged) events.push({ leaf: null, eventType: 'Login.Success' });
  return {
    events,
    nextCursor: 'Y3Vyc29y',
    hasMore: true,
    // A checkpoint's signature line starts with an em dash: not ASCII.
    checkpoint: 'example.com/itportal/1/trail\n7\nAAAA\n\n— example.com/itportal abc=\n',
  };
}

describe('pageBytes', () => {
  it('writes a json page byte for byte as the joined envelopes, every type and target, unicode and a purged leaf', () => {
    const parts = page();
    const records = parts.events.map((e) => wireOfLeaf(e.leaf ?? '{}', e.eventType));
    const bytes = pageBytes(parts, PRESENTERS.get('json')!, SAMPLE_CONTEXT);
    expect(bytes.equals(Buffer.from(joinedText(parts, records), 'utf8'))).toBe(true);
    const body = JSON.parse(bytes.toString('utf8')) as { Events: Array<{ Seq?: number }> };
    expect(body.Events).toHaveLength(parts.events.length);
    expect(body.Events.some((e) => JSON.stringify(e).includes('🔐'))).toBe(true);
  });

  it('writes every other format as its records joined', () => {
    const parts = page(false);
    for (const [name, presenter] of PRESENTERS) {
      if (name === 'json') continue;
      const records = parts.events.map((e) =>
        JSON.stringify(
          presenter.present(JSON.parse(wireOfLeaf(e.leaf ?? '{}', e.eventType)) as WireEvent, SAMPLE_CONTEXT),
        ),
      );
      const bytes = pageBytes(parts, presenter, SAMPLE_CONTEXT);
      expect(bytes.toString('utf8'), name).toBe(joinedText(parts, records));
    }
  });

  it('writes an empty page', () => {
    const parts = { ...page(), events: [] };
    expect(pageBytes(parts, PRESENTERS.get('json')!, SAMPLE_CONTEXT).toString('utf8')).toBe(
      joinedText(parts, []),
    );
  });
});
