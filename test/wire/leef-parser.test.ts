/** The strict LEEF 2.0 parser refuses what the specification does not allow (so it can fail). */
import { describe, expect, it } from 'vitest';
import { LeefError, parseLeef2, readDevTime } from './leef-parser.js';

const OK = 'LEEF:2.0|V|P|1.0|E1|^|src=10.0.0.1^sev=5^msg=a|b=c';

describe('parseLeef2', () => {
  it('reads header, hex or literal delimiter, and attributes split at the first =', () => {
    expect(parseLeef2(OK)).toMatchObject({
      vendor: 'V',
      product: 'P',
      productVersion: '1.0',
      eventId: 'E1',
      delimiter: '^',
      attributes: { src: '10.0.0.1', sev: '5', msg: 'a|b=c' },
    });
    expect(parseLeef2('LEEF:2.0|V|P|1|E|x5E|a=1^b=2').attributes).toEqual({ a: '1', b: '2' });
    expect(parseLeef2('LEEF:2.0|V|P|1|E|0x09|a=1\tb=2').attributes).toEqual({ a: '1', b: '2' });
    expect(parseLeef2('LEEF:2.0|V|P|1|E||a=1\tb=2').delimiter).toBe('\t');
  });

  it.each([
    ['LEEF 1.0', 'LEEF:1.0|V|P|1|E|a=1'],
    ['a missing header field', 'LEEF:2.0|V|P|1|E'],
    ['an empty EventID', 'LEEF:2.0|V|P|1||^|a=1'],
    ['a bad delimiter', 'LEEF:2.0|V|P|1|E|ab|a=1'],
    ['a line break', 'LEEF:2.0|V|P|1|E|^|a=1\nb=2'],
    ['an attribute without =', 'LEEF:2.0|V|P|1|E|^|a=1^junk'],
    ['an empty attribute', 'LEEF:2.0|V|P|1|E|^|a=1^^b=2'],
    ['a duplicate key', 'LEEF:2.0|V|P|1|E|^|a=1^a=2'],
    ['a bad key', 'LEEF:2.0|V|P|1|E|^|a b=1'],
    ['sev out of range', 'LEEF:2.0|V|P|1|E|^|sev=11'],
    ['sev 0', 'LEEF:2.0|V|P|1|E|^|sev=0'],
    ['src not an IP', 'LEEF:2.0|V|P|1|E|^|src=host'],
    [
      'devTime not matching its format',
      "LEEF:2.0|V|P|1|E|^|devTime=2026-04-25 13:41^devTimeFormat=yyyy-MM-dd'T'HH:mm",
    ],
    ['devTime without format, not epoch', 'LEEF:2.0|V|P|1|E|^|devTime=Apr 25 2026 13:41:31'],
    ['devTimeFormat alone', 'LEEF:2.0|V|P|1|E|^|devTimeFormat=yyyy'],
  ])('refuses %s', (_, line) => {
    expect(() => parseLeef2(line)).toThrow(LeefError);
  });

  it('reads devTime with devTimeFormat, zone included', () => {
    const f = "yyyy-MM-dd'T'HH:mm:ss.SSSX";
    expect(readDevTime('2026-04-25T13:41:31.863Z', f)).toBe(Date.UTC(2026, 3, 25, 13, 41, 31, 863));
    expect(readDevTime('2026-04-25T15:41:31.863+02:00', f)).toBe(Date.UTC(2026, 3, 25, 13, 41, 31, 863));
    expect(() => readDevTime('2026-04-25T13:41:31Z', f)).toThrow(LeefError);
  });
});
