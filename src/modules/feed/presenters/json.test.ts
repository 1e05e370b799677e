import { describe, expect, it } from 'vitest';
import { wireOfLeaf } from '../../log/log-leaf.js';
import { presentJson } from './json.js';
import { sampleEvents } from '../../../../test/wire-samples.js';

describe('json presenter', () => {
  it('is the envelope with Seq, the same object as the feed splices from the leaf', () => {
    for (const { event, leaf } of sampleEvents()) {
      const spliced: unknown = JSON.parse(wireOfLeaf(leaf, event.EventType));
      expect(presentJson(event)).toEqual(spliced);
      expect(presentJson(event)).toMatchObject({ Id: event.Id, Seq: event.Seq });
    }
  });
});
