/**
 * RFC 5424 syslog: one record per event, no trailing newline,
 *   <PRI>1 TIMESTAMP HOSTNAME itportal - MSGID [itportal@32473 id="..." seq="..." ...] MSG
 *
 * Rules:
 * - PRI = facility 13 ("log audit": these are audit records) * 8 + the RFC 5424 severity mapped from
 *   the envelope's: critical → 2, warning → 4, info → 6.
 * - TIMESTAMP is the event's time (the envelope's Timestamp: milliseconds, `Z`), not the send time.
 * - HOSTNAME = the portal's host name; APP-NAME `itportal`; PROCID `-`; MSGID = EventType. Header
 *   fields are PRINTUSASCII without spaces: any other character becomes `_`, and each is cut to its
 *   RFC 5424 length (255, 48, 32); an empty one is the NILVALUE `-`.
 * - One SD-ELEMENT, `itportal@32473`: 32473 is the private enterprise number RFC 5612 reserves for
 *   documentation, used until the product has its own (the SD-ID lives in this one constant).
 *   PARAM-VALUEs escape `"`, `\` and `]` with a backslash (RFC 5424 §6.3.3) and nothing else; a
 *   control character (a line break, a tab) becomes a space so a record is always one line (framing
 *   without octet counts splits at a line feed). The exact values are in MSG.
 * - MSG is the envelope (with Seq) as JSON, every non-ASCII character written as a `\uXXXX` escape:
 *   MSG is then plain ASCII, valid as RFC 5424's MSG-ANY without a BOM, which receivers and JSON
 *   parsers alike would otherwise have to strip; JSON.parse(MSG) gives back the exact envelope.
 * Pure: same event and context, same record.
 */
import type { PresentContext, TextPresenter, WireEvent } from './presenter.js';

export const SYSLOG_FACILITY = 13;
export const SYSLOG_APP_NAME = 'itportal';
export const SYSLOG_SD_ID = 'itportal@32473';

/** RFC 5424 severity (0 emergency ... 7 debug) from the envelope's. */
export const SYSLOG_SEVERITY: Readonly<Record<string, number>> = { critical: 2, warning: 4, info: 6 };

function headerField(value: string | null, max: number): string {
  if (!value) return '-';
  return value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
}

// eslint-disable-next-line no-control-regex
const SD_SPECIAL = /[\u0000-\u001f\u007f"\\\]]/;
const NON_ASCII = /[\u0080-\uffff]/;

export function escapeSdValue(value: string): string {
  if (!SD_SPECIAL.test(value)) return value;
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** JSON with every non-ASCII UTF-16 unit escaped: exact after JSON.parse, ASCII on the wire. */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!NON_ASCII.test(json)) return json;
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The SD-PARAMs in order, values unescaped; nulls already dropped. */
export function syslogParams(e: WireEvent, ctx: PresentContext): Array<[string, string]> {
  const pairs: Array<[string, string | number | null]> = [
    ['id', e.Id],
    ['seq', e.Seq],
    ['tenant', ctx.tenantId],
    ['eventType', e.EventType],
    ['category', e.Category],
    ['severity', e.Severity],
    ['outcome', e.Outcome],
    ['sourceTable', e.SourceTable],
    ['userId', e.Actor.UserId],
    ['username', e.Actor.Username],
    ['clientId', e.Actor.ClientId],
    ['ip', e.Ip],
    ['targetType', e.Target.Type],
    ['targetId', e.Target.Id],
    ['targetName', e.Target.Name],
  ];
  return pairs
    .filter((p): p is [string, string | number] => p[1] !== null && p[1] !== '')
    .map(([k, v]) => [k, String(v)]);
}

export function presentSyslog(e: WireEvent, ctx: PresentContext): string {
  const pri = SYSLOG_FACILITY * 8 + (SYSLOG_SEVERITY[e.Severity] ?? 6);
  const params = syslogParams(e, ctx)
    .map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`)
    .join('');
  return [
    `<${pri}>1`,
    e.Timestamp,
    headerField(ctx.host, 255),
    SYSLOG_APP_NAME,
    '-',
    headerField(e.EventType, 32),
    `[${SYSLOG_SD_ID}${params}]`,
    asciiJson(e),
  ].join(' ');
}

export const syslogPresenter: TextPresenter = { format: 'syslog', kind: 'text', present: presentSyslog };
