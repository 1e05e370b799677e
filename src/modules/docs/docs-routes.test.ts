import { describe, expect, it } from 'vitest';
import { DOCS_ROOT, docPath, headingSlug } from './docs-routes.js';

describe('docs served from the package', () => {
  it('serves docs/*.md and docs/siem/** only, never a path that leaves them', () => {
    expect(docPath('api.md')).toBe(`${DOCS_ROOT}api.md`);
    expect(docPath('siem/splunk/props.conf')).toBe(`${DOCS_ROOT}siem/splunk/props.conf`);
    for (const bad of [
      '../package.json',
      'siem/../../package.json',
      'siem/./README.md',
      'screenshots/events.png',
      'benchmarks.json',
      'siem/',
      'siem/.hidden',
      'siem\\..\\x',
      'api.md\0',
      '',
    ]) {
      expect(docPath(bad), bad).toBeNull();
    }
  });

  it("gives headings GitHub's anchors, so the guides' links land on them", () => {
    expect(headingSlug('The feed: `GET /api/siem/events`')).toBe('the-feed-get-apisiemevents');
    expect(headingSlug('401 Unauthorized')).toBe('401-unauthorized');
    expect(headingSlug('Run the pull client as a service')).toBe('run-the-pull-client-as-a-service');
  });
});
