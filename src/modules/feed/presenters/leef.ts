/**
 * LEEF 2.0 (IBM QRadar Log Event Extended Format): one line per event,
 *   LEEF:2.0|IT Portal|IT Portal|<version>|<EventType>|x09|key=value<TAB>key=value...
 *
 * Rules:
 * - The attribute delimiter is the tab, named in the header in the specification's hex form `x09`
 *   (a receiver cannot mistake it for a literal character, and tab is LEEF 1.0's and 2.0's default).
 * - LEEF has no escape for the delimiter, but 2.0 names it per event: when a value holds a tab, the
 *   event is delimited by the first of `^`, U+001F, U+001E, U+001D, U+001C that no value holds, so
 *   the tab is kept. Only when every candidate occurs (never in practice) does a tab become a space.
 * - A line feed or carriage return in a value is written as a space: a LEEF event is one line of
 *   syslog, and LEEF has no escape for it. Every other character, `|`, `=`, `\`, `"` and unicode
 *   included, is written as it is: attributes are split at the delimiter, and each at its first `=`.
 *   The exact values are in the JSON formats.
 * - Header fields never contain `|` or a line break (each becomes a space); they are constants, the
 *   EventType and the product version, so this never happens in practice.
 * - `devTime` is the envelope's Timestamp as it is, with `devTimeFormat` naming its pattern explicitly
 *   (Java SimpleDateFormat, `X` = ISO 8601 zone, which reads the trailing `Z` as UTC).
 * A key whose value is null is left out. Pure: same event and context, same line.
 */
import type { PresentContext, TextPresenter, WireEvent } from './presenter.js';

export const LEEF_VENDOR = 'IT Portal';
export const LEEF_PRODUCT = 'IT Portal';
export const LEEF_DELIMITER = '\t';
export const LEEF_DELIMITER_HEADER = 'x09';
export const LEEF_DEV_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSX";

/** LEEF `sev` 1-10 from the envelope's severity. */
export const LEEF_SEVERITY: Readonly<Record<string, number>> = { info: 3, warning: 6, critical: 9 };

export function leefHeaderField(value: string): string {
  return value.replace(/\r\n|[|\r\n]/g, ' ');
}

/** Delimiters for an event whose values hold a tab, in order of preference, with their header form. */
const FALLBACK_DELIMITERS: ReadonlyArray<readonly [string, string]> = [
  ['^', '^'],
  ['\x1f', 'x1F'],
  ['\x1e', 'x1E'],
  ['\x1d', 'x1D'],
  ['\x1c', 'x1C'],
];

/** A value as written between delimiters: line breaks (and a tab, when it is the delimiter) as spaces. */
export function leefValue(value: string, delimiter = LEEF_DELIMITER): string {
  if (!/[\r\n]/.test(value) && !value.includes(delimiter)) return value;
  const flat = value.replace(/\r\n|[\r\n]/g, ' ');
  return flat.includes(delimiter) ? flat.split(delimiter).join(' ') : flat;
}

/** The delimiter of an event: tab, unless a value holds one (then the first candidate none holds). */
export function leefDelimiter(values: readonly string[]): readonly [string, string] {
  if (!values.some((v) => v.includes('\t'))) return [LEEF_DELIMITER, LEEF_DELIMITER_HEADER];
  return (
    FALLBACK_DELIMITERS.find(([d]) => !values.some((v) => v.includes(d))) ?? [
      LEEF_DELIMITER,
      LEEF_DELIMITER_HEADER,
    ]
  );
}

/** The attributes in order, values as given (before the delimiter rule); nulls already dropped. */
export function leefAttributes(e: WireEvent, ctx: PresentContext): Array<[string, string]> {
  const pairs: Array<[string, string | number | null]> = [
    ['devTime', e.Timestamp],
    ['devTimeFormat', LEEF_DEV_TIME_FORMAT],
    ['cat', e.Category],
    ['sev', LEEF_SEVERITY[e.Severity] ?? 1],
    ['externalId', e.Id],
    ['seq', e.Seq],
    ['outcome', e.Outcome],
    ['sourceTable', e.SourceTable],
    ['identSrc', e.Ip],
    ['src', e.Ip],
    ['usrName', e.Actor.Username],
    ['userId', e.Actor.UserId],
    ['clientId', e.Actor.ClientId],
    ['userAgent', e.UserAgent],
    ['targetType', e.Target.Type],
    ['targetId', e.Target.Id],
    ['targetName', e.Target.Name],
    ['controls', e.Controls.join(',')],
    ['tenant', ctx.tenantId],
    ['dvchost', ctx.host],
    ['details', Object.keys(e.Details).length ? JSON.stringify(e.Details) : null],
  ];
  return pairs
    .filter((p): p is [string, string | number] => p[1] !== null && p[1] !== '')
    .map(([k, v]) => [k, String(v)]);
}

export function presentLeef(e: WireEvent, ctx: PresentContext): string {
  const pairs = leefAttributes(e, ctx);
  const [delimiter, delimiterHeader] = leefDelimiter(pairs.map(([, v]) => v));
  const header = [
    'LEEF:2.0',
    leefHeaderField(LEEF_VENDOR),
    leefHeaderField(LEEF_PRODUCT),
    leefHeaderField(ctx.productVersion),
    leefHeaderField(e.EventType),
    delimiterHeader,
  ].join('|');
  const attributes = pairs.map(([key, value]) => `${key}=${leefValue(value, delimiter)}`).join(delimiter);
  return `${header}|${attributes}`;
}

export const leefPresenter: TextPresenter = { format: 'leef', kind: 'text', present: presentLeef };
