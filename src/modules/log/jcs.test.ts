import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeReference, jcs } from './jcs.js';

describe('jcs', () => {
  it('equals the reference RFC 8785 implementation on arbitrary JSON', () => {
    // Keys include index-like ones ("0", "10", "2"), unicode and surrogate pairs; strings any code unit.
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom('0', '1', '2', '10', '01', '4294967295', 'é', '😀', 'a', '__proto__', 'toJSON'),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.string({ unit: 'binary' }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (v) => {
        expect(jcs(v)).toBe(canonicalizeReference(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a "__proto__" key (JSON.parse makes it an own property) and refuses non-finite numbers', () => {
    const parsed: unknown = JSON.parse('{"b":2,"__proto__":{"a":1}}');
    expect(jcs(parsed)).toBe('{"__proto__":{"a":1},"b":2}');
    expect(jcs(parsed)).toBe(canonicalizeReference(parsed));
    expect(() => jcs({ a: Number.NaN })).toThrow(TypeError);
    expect(() => jcs([Infinity])).toThrow(TypeError);
    expect(jcs({ d: new Date(0) })).toBe(canonicalizeReference({ d: new Date(0) }));
  });

  it('sorts keys by UTF-16 code units and writes numbers as ECMAScript does (RFC 8785 §3.2.3 example)', () => {
    // The sorting example of RFC 8785 §3.2.3.
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(jcs(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(jcs({ b: [1e21, 1e-7, -0, 333333333.3333333], a: 'x' })).toBe(
      '{"a":"x","b":[1e+21,1e-7,0,333333333.3333333]}',
    );
  });
});
