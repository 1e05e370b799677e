/**
 * Parsing of the feed's query parameters into what the service needs. Each failure is a 400 that
 * names the parameter and its valid form.
 */
import { AppError } from '../../errors.js';
import { EVENT_TYPE_LIST } from '../audit/event-types.js';
import { DEFAULT_FEED_TYPES } from './feed-service.js';
import {
  DEFAULT_FORMAT,
  FORMAT_NAMES,
  PRESENTERS,
  type FormatName,
  type Presenter,
} from './presenters/index.js';

// The offset's sign may arrive as a space: `+02:00` pasted into a query string unencoded is decoded
// as ` 02:00` (application/x-www-form-urlencoded), and a SIEM engineer should not get a 400 for it.
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+\- ]\d{2}(?::?\d{2})?)?)?$/;

const SINCE_FORM =
  'since: expected an ISO 8601 instant such as 2026-04-25T00:00:00Z, 2026-04-25T02:00:00+02:00, 2026-04-25T00:00:00 (UTC) or 2026-04-25 (midnight UTC)';

/** ISO 8601 instant → epoch ms. A zone-less time is UTC; a bare date is midnight UTC. */
export function parseSince(raw: string): number {
  const m = INSTANT.exec(raw.trim());
  if (!m) throw new AppError('invalid_since', SINCE_FORM);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new AppError('invalid_since', SINCE_FORM);
  }
  const ms = Number((frac + '000').slice(0, 3));
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(t);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) {
    throw new AppError('invalid_since', SINCE_FORM);
  }
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) throw new AppError('invalid_since', SINCE_FORM);
    t -= sign * (oh * 60 + om) * 60_000;
  }
  return t;
}

const KNOWN = EVENT_TYPE_LIST.map((t) => t.type);

/** `Login.Failure,Access.Denied` or `Login.*` → the set of types; absent → the default feed. */
export function parseEventTypes(raw: string | undefined): ReadonlySet<string> {
  if (raw === undefined) return DEFAULT_FEED_TYPES;
  const parts = raw.split(',').map((p) => p.trim());
  const out = new Set<string>();
  for (const part of parts) {
    if (part === '') {
      throw new AppError(
        'invalid_event_type',
        'eventType: empty entry; expected a comma-separated list such as Login.Failure,Access.Denied',
      );
    }
    if (part.endsWith('.*')) {
      const prefix = part.slice(0, -1);
      const matched = KNOWN.filter((t) => t.startsWith(prefix));
      if (matched.length === 0) {
        throw new AppError(
          'invalid_event_type',
          `eventType: "${part.slice(0, 64)}" matches no event type; valid prefixes are ${[...new Set(KNOWN.filter((t) => t.includes('.')).map((t) => t.split('.')[0] + '.*'))].join(', ')}`,
        );
      }
      matched.forEach((t) => out.add(t));
    } else if (KNOWN.includes(part)) {
      out.add(part);
    } else {
      throw new AppError(
        'invalid_event_type',
        `eventType: "${part.slice(0, 64)}" is not an event type; valid types are ${KNOWN.join(', ')} (or a prefix such as Login.*)`,
      );
    }
  }
  return out;
}

/** `format=` → its presenter; absent → json. An unknown name is a 400 listing the served formats. */
export function parseFormat(raw: string | undefined): Presenter {
  const name = (raw ?? DEFAULT_FORMAT) as FormatName;
  const presenter = PRESENTERS.get(name);
  if (!presenter) {
    throw new AppError(
      'invalid_format',
      `format: "${String(raw).slice(0, 32)}" is not a wire format; valid formats are ${FORMAT_NAMES.join(', ')} (default json)`,
    );
  }
  return presenter;
}
