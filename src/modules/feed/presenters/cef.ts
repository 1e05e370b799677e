/**
 * CEF (ArcSight Common Event Format, revision 25): one line per event,
 *   CEF:0|IT Portal|IT Portal|<version>|<EventType>|<name>|<severity 0-10>|<extension>
 *
 * Escaping, exactly as the specification says and nothing more:
 * - header fields: `\` → `\\` and `|` → `\|` (a line break cannot be escaped there, so it becomes a
 *   space; our header fields are constants and the product version, so it never happens in practice);
 * - extension values: `\` → `\\`, `=` → `\=`, a line feed → `\n`, a carriage return → `\r`; `|` and
 *   spaces are written as they are (the specification says pipes in the extension need no escape);
 * - extension keys are names from the CEF dictionary, plain ASCII, never escaped.
 * A key whose value is null is left out. Pure: same event and context, same line.
 */
import { isIPv4 } from 'node:net';
import type { PresentContext, TextPresenter, WireEvent } from './presenter.js';

export const CEF_VENDOR = 'IT Portal';
export const CEF_PRODUCT = 'IT Portal';

/** CEF severity 0-10 (0-3 low, 4-6 medium, 7-8 high, 9-10 very high) from the envelope's. */
export const CEF_SEVERITY: Readonly<Record<string, number>> = { info: 3, warning: 6, critical: 9 };

/** The header's Name: a human-readable description of the event class. */
export const CEF_NAMES: Readonly<Record<string, string>> = {
  'Login.Success': 'User logged in',
  'Login.Failure': 'Login failed',
  'Login.Logout': 'User logged out',
  'Access.Object': 'Object read',
  'Access.Denied': 'Access denied',
  PolicyChange: 'Security policy changed',
  AdminAction: 'Administrative action',
  'Audit.SiemPoll': 'SIEM feed polled',
};

export function escapeCefHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|[\r\n]/g, ' ');
}

const CEF_VALUE_SPECIAL = /[\\=\r\n]/;

export function escapeCefValue(value: string): string {
  if (!CEF_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/** The extension's key/value pairs in order, values unescaped; nulls already dropped. */
export function cefExtension(e: WireEvent, ctx: PresentContext): Array<[string, string]> {
  const pairs: Array<[string, string | number | null]> = [
    ['rt', Date.parse(e.Timestamp)],
    ['externalId', e.Id],
    ['cat', e.Category],
    ['act', e.EventType],
    ['outcome', e.Outcome],
    ['deviceFacility', e.SourceTable],
    ['dvchost', ctx.host],
    ['suser', e.Actor.Username],
    ['suid', e.Actor.UserId],
  ];
  if (e.Ip !== null) {
    if (isIPv4(e.Ip)) pairs.push(['src', e.Ip]);
    else pairs.push(['c6a2', e.Ip], ['c6a2Label', 'Source IPv6 Address']);
  }
  pairs.push(['requestClientApplication', e.UserAgent]);
  if (e.Target.Type === 'User') pairs.push(['duser', e.Target.Name], ['duid', e.Target.Id]);
  pairs.push(
    ['cs1', e.Target.Type],
    ['cs1Label', 'Target type'],
    ['cs2', e.Target.Id],
    ['cs2Label', 'Target id'],
    ['cs3', e.Target.Name],
    ['cs3Label', 'Target name'],
    ['cs4', e.Seq],
    ['cs4Label', 'Seq'],
    ['cs5', e.Controls.join(',')],
    ['cs5Label', 'Controls'],
    ['cs6', e.Actor.ClientId],
    ['cs6Label', 'Client id'],
    ['cn1', ctx.tenantId],
    ['cn1Label', 'Tenant'],
    ['msg', Object.keys(e.Details).length ? JSON.stringify(e.Details) : null],
  );
  const out: Array<[string, string]> = [];
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!;
    if (value === null || value === '') {
      // A label without its value says nothing: drop both.
      if (/^c[sn]\d$/.test(key) && pairs[i + 1]?.[0] === `${key}Label`) i++;
      continue;
    }
    out.push([key, String(value)]);
  }
  return out;
}

export function presentCef(e: WireEvent, ctx: PresentContext): string {
  const header = [
    'CEF:0',
    escapeCefHeader(CEF_VENDOR),
    escapeCefHeader(CEF_PRODUCT),
    escapeCefHeader(ctx.productVersion),
    escapeCefHeader(e.EventType),
    escapeCefHeader(CEF_NAMES[e.EventType] ?? e.EventType),
    String(CEF_SEVERITY[e.Severity] ?? 0),
  ].join('|');
  const extension = cefExtension(e, ctx)
    .map(([key, value]) => `${key}=${escapeCefValue(value)}`)
    .join(' ');
  return `${header}|${extension}`;
}

export const cefPresenter: TextPresenter = { format: 'cef', kind: 'text', present: presentCef };
