/**
 * LEEF 2.0 (IBM QRadar Log Event Extended Format): one line per event,
 *   LEEF:2.0|IT Portal|IT Portal|<version>|<EventType>|x09|key=value<TAB>key=value...
 *
 * Rules:
 * - The attribute delimiter is the tab, named in the header in the specification's hex form `x09`
 *   (a receiver cannot mistake it for a literal character, and tab is LEEF 1.0's and 2.0's default).
 * - LEEF has no escape for the delimiter: a value never contains it. A tab in a value is written as a
 *   space, and so are a line feed and a carriage return (a LEEF event is one line of syslog). Every
 *   other character, `|`, `=`, `\`, `"` and unicode included, is written as it is: attributes are split
 *   at the delimiter, and each at its first `=`. The exact values are in the JSON formats.
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

const LEEF_VALUE_SPECIAL = /[\t\r\n]/;

export function leefValue(value: string): string {
  if (!LEEF_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/\r\n|[\t\r\n]/g, ' ');
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
  const header = [
    'LEEF:2.0',
    leefHeaderField(LEEF_VENDOR),
    leefHeaderField(LEEF_PRODUCT),
    leefHeaderField(ctx.productVersion),
    leefHeaderField(e.EventType),
    LEEF_DELIMITER_HEADER,
  ].join('|');
  const attributes = leefAttributes(e, ctx)
    .map(([key, value]) => `${key}=${leefValue(value)}`)
    .join(LEEF_DELIMITER);
  return `${header}|${attributes}`;
}

export const leefPresenter: TextPresenter = { format: 'leef', kind: 'text', present: presentLeef };
