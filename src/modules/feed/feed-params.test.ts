import { describe, expect, it } from 'vitest';
import { DEFAULT_FEED_TYPES } from './feed-service.js';
import { parseEventTypes, parseSince } from './feed-params.js';

describe('since', () => {
  it.each([
    ['2026-04-25T00:00:00Z', '2026-04-25T00:00:00.000Z'],
    ['2026-04-25T13:41:31.863Z', '2026-04-25T13:41:31.863Z'],
    ['2026-04-25T02:00:00+02:00', '2026-04-25T00:00:00.000Z'],
    // `+02:00` pasted into a URL unencoded arrives as ` 02:00`.
    ['2026-04-25T02:00:00 02:00', '2026-04-25T00:00:00.000Z'],
    ['2026-04-25T05:30:00 0530', '2026-04-25T00:00:00.000Z'],
    ['2026-04-24T19:00:00-0500', '2026-04-25T00:00:00.000Z'],
    ['2026-04-25T00:00:00', '2026-04-25T00:00:00.000Z'],
    ['2026-04-25', '2026-04-25T00:00:00.000Z'],
    ['2026-04-25T10:15', '2026-04-25T10:15:00.000Z'],
  ])('%s is %s', (raw, iso) => {
    expect(new Date(parseSince(raw)).toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '2026-13-01',
    '2026-02-30',
    '2026-04-25T24:00:00Z',
    '2026-04-25T00:00:00+25:00',
    '1714000000',
    '2026-04-25T00:00:00ZZ',
    '2026-04-25T00:00:00  02:00',
    '2026-04-25T00:00:00 2:00',
  ])('refuses %j naming since', (raw) => {
    expect(() => parseSince(raw)).toThrow(/since/);
  });
});

describe('eventType', () => {
  it('defaults to every type but poll records', () => {
    expect(parseEventTypes(undefined)).toBe(DEFAULT_FEED_TYPES);
    expect(DEFAULT_FEED_TYPES.has('Audit.SiemPoll')).toBe(false);
    expect(DEFAULT_FEED_TYPES.size).toBe(7);
  });
  it('takes lists and category prefixes', () => {
    expect([...parseEventTypes('Login.Failure, Access.Denied')]).toEqual(['Login.Failure', 'Access.Denied']);
    expect([...parseEventTypes('Login.*')].sort()).toEqual([
      'Login.Failure',
      'Login.Logout',
      'Login.Success',
    ]);
    expect([...parseEventTypes('Audit.SiemPoll')]).toEqual(['Audit.SiemPoll']);
  });
  it.each(['Login.Bogus', 'login.failure', 'Bogus.*', ',', 'Login.Failure,,Access.Denied'])(
    'refuses %j naming eventType',
    (raw) => {
      expect(() => parseEventTypes(raw)).toThrow(/eventType/);
    },
  );
});
