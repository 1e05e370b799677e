/**
 * A strict LEEF 2.0 parser, written from IBM's LEEF specification (version 2), because no LEEF parser
 * exists on the package registries we can use. Strict means it refuses what the specification does not
 * allow, instead of guessing:
 * - one line: `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` then the attributes;
 *   header fields are pipe-delimited and cannot hold a `|`; the five fields after the version exist;
 * - the delimiter field is one character, or its hex code `xHH`/`0xHH` (up to four hex digits); empty
 *   means tab (the default); LEEF 1.0 records, which have no delimiter field, are refused;
 * - attributes are `key=value` separated by the delimiter; a key is a name (letters, digits, `_`,
 *   starting with a letter), split from its value at the first `=`; a value cannot hold the delimiter
 *   (there is no escape for it), so it runs to the next delimiter; an empty attribute, a duplicate
 *   key or a line break anywhere is an error;
 * - predefined attributes are checked: `sev` an integer 1-10, `src`/`dst`/`identSrc` IP addresses,
 *   `devTime` readable with `devTimeFormat` (a Java SimpleDateFormat pattern; the subset
 *   `yyyy MM dd HH mm ss SSS X 'literal'` and punctuation), and `devTimeFormat` never without `devTime`.
 */
import { isIP } from 'node:net';

export interface LeefRecord {
  version: '2.0';
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  delimiter: string;
  attributes: Record<string, string>;
  /** devTime read with devTimeFormat, in ms since the epoch, when present. */
  devTimeMs?: number;
}

export class LeefError extends Error {}

function delimiterOf(field: string): string {
  if (field === '') return '\t';
  const hex = /^(?:0x|x)([0-9a-fA-F]{1,4})$/.exec(field);
  if (hex) return String.fromCharCode(parseInt(hex[1]!, 16));
  if ([...field].length === 1) return field;
  throw new LeefError(`delimiter must be one character or xHH: ${JSON.stringify(field)}`);
}

const TOKENS: Array<[RegExp, (src: string) => string, string | null]> = [
  [/^yyyy/, () => '(\\d{4})', 'y'],
  [/^MM/, () => '(\\d{2})', 'M'],
  [/^dd/, () => '(\\d{2})', 'd'],
  [/^HH/, () => '(\\d{2})', 'H'],
  [/^mm/, () => '(\\d{2})', 'm'],
  [/^ss/, () => '(\\d{2})', 's'],
  [/^SSS/, () => '(\\d{3})', 'S'],
  [/^X/, () => '(Z|[+-]\\d{2}(?::?\\d{2})?)', 'X'],
];

/** Reads `value` with a SimpleDateFormat subset; throws on anything it does not know. */
export function readDevTime(value: string, format: string): number {
  let re = '^';
  const groups: string[] = [];
  let rest = format;
  while (rest) {
    const quoted = /^'([^']*)'/.exec(rest);
    if (quoted) {
      re += quoted[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      rest = rest.slice(quoted[0].length);
      continue;
    }
    const tok = TOKENS.find(([t]) => t.test(rest));
    if (tok) {
      const len = tok[0].exec(rest)![0].length;
      re += tok[1](rest);
      groups.push(tok[2]!);
      rest = rest.slice(len);
      continue;
    }
    if (/^[A-Za-z]/.test(rest)) throw new LeefError(`devTimeFormat letter not supported: ${rest[0]}`);
    re += rest[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rest = rest.slice(1);
  }
  const m = new RegExp(re + '$').exec(value);
  if (!m) throw new LeefError(`devTime ${JSON.stringify(value)} does not match ${format}`);
  const f: Record<string, string> = {};
  groups.forEach((g, i) => (f[g] = m[i + 1]!));
  if (!f.y || !f.M || !f.d || !f.H || !f.m || !f.s || !f.X) {
    throw new LeefError(`devTimeFormat ${format} lacks a date, a time or a zone`);
  }
  const zone =
    f.X === 'Z' ? 'Z' : f.X.length === 3 ? `${f.X}:00` : f.X.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${f.y}-${f.M}-${f.d}T${f.H}:${f.m}:${f.s}.${f.S ?? '000'}${zone}`);
  if (Number.isNaN(ms)) throw new LeefError(`devTime ${value} is not a time`);
  return ms;
}

export function parseLeef2(line: string): LeefRecord {
  if (/[\r\n]/.test(line)) throw new LeefError('a LEEF event is one line');
  if (!line.startsWith('LEEF:')) throw new LeefError('no LEEF header');
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) {
    const bar = line.indexOf('|', at);
    if (bar < 0) throw new LeefError(`header has ${i} of 6 pipe-delimited fields`);
    fields.push(line.slice(at, bar));
    at = bar + 1;
  }
  const [magic, vendor, product, productVersion, eventId, delimiterField] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (magic !== 'LEEF:2.0') throw new LeefError(`not LEEF 2.0: ${magic}`);
  for (const [name, v] of [
    ['vendor', vendor],
    ['product', product],
    ['version', productVersion],
    ['EventID', eventId],
  ]) {
    if (!v) throw new LeefError(`empty header field ${name}`);
  }
  const delimiter = delimiterOf(delimiterField);
  const body = line.slice(at);
  const attributes: Record<string, string> = {};
  if (body !== '') {
    for (const token of body.split(delimiter)) {
      const eq = token.indexOf('=');
      if (eq < 0) throw new LeefError(`attribute without =: ${JSON.stringify(token)}`);
      const key = token.slice(0, eq);
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key))
        throw new LeefError(`bad attribute key ${JSON.stringify(key)}`);
      if (Object.hasOwn(attributes, key)) throw new LeefError(`duplicate attribute ${key}`);
      attributes[key] = token.slice(eq + 1);
    }
  }
  const record: LeefRecord = {
    version: '2.0',
    vendor,
    product,
    productVersion,
    eventId,
    delimiter,
    attributes,
  };
  if (attributes.sev !== undefined) {
    const sev = Number(attributes.sev);
    if (!/^\d+$/.test(attributes.sev) || sev < 1 || sev > 10)
      throw new LeefError(`sev ${attributes.sev} not 1-10`);
  }
  for (const key of ['src', 'dst', 'identSrc']) {
    if (attributes[key] !== undefined && !isIP(attributes[key])) {
      throw new LeefError(`${key} is not an IP address: ${attributes[key]}`);
    }
  }
  if (attributes.devTimeFormat !== undefined && attributes.devTime === undefined) {
    throw new LeefError('devTimeFormat without devTime');
  }
  if (attributes.devTime !== undefined) {
    if (attributes.devTimeFormat !== undefined) {
      record.devTimeMs = readDevTime(attributes.devTime, attributes.devTimeFormat);
    } else if (/^\d+$/.test(attributes.devTime)) {
      record.devTimeMs = Number(attributes.devTime);
    } else {
      throw new LeefError('devTime in a custom format needs devTimeFormat');
    }
  }
  return record;
}
