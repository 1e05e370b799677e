/**
 * Presenting a page in the text wire formats: p50 time to turn a 5,000-event page of realistic
 * sequenced envelopes into CEF, LEEF 2.0 and RFC 5424 syslog records, beside `JSON.stringify` of the
 * same envelopes (what the json format costs). Pure CPU, no store: the presenters are pure functions.
 *
 *   npx tsx bench/formats-text.ts [--events=5000] [--runs=31]
 *
 * Envelopes mix every event type in the feed's proportions of a busy tenant (mostly reads and logins),
 * with user agents, IPv4/IPv6 addresses, targets and Details like the portal writes.
 */
import { EVENT_TYPE_LIST } from '../src/modules/audit/event-types.js';
import { presentCef } from '../src/modules/feed/presenters/cef.js';
import { presentLeef } from '../src/modules/feed/presenters/leef.js';
import type { PresentContext, WireEvent } from '../src/modules/feed/presenters/presenter.js';
import { presentSyslog } from '../src/modules/feed/presenters/syslog.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const EVENTS = Number(option('events', '5000'));
const RUNS = Number(option('runs', '31'));

const CTX: PresentContext = { tenantId: 1, host: 'portal.example.com', productVersion: '0.1.0' };
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const WEIGHTS: Record<string, number> = {
  'Access.Object': 40,
  'Login.Success': 20,
  'Login.Logout': 15,
  'Login.Failure': 8,
  'Access.Denied': 7,
  'Audit.SiemPoll': 5,
  AdminAction: 3,
  PolicyChange: 2,
};

function page(n: number): WireEvent[] {
  const bag = EVENT_TYPE_LIST.flatMap((t) => Array<typeof t>(WEIGHTS[t.type] ?? 1).fill(t));
  const start = Date.UTC(2026, 3, 25, 13, 0, 0, 0);
  return Array.from({ length: n }, (_, i) => {
    const t = bag[(i * 7919) % bag.length]!;
    const details: Record<string, unknown> =
      t.type === 'PolicyChange'
        ? { before: { minLength: 12, lockoutAfter: 5 }, after: { minLength: 14, lockoutAfter: 5 } }
        : t.type === 'Audit.SiemPoll'
          ? { eventCount: 500, cursor: 'v2.eyJzIjoxMjM0NX0', durationMs: 12 }
          : t.type.startsWith('Login')
            ? { logType: 'LOGIN', method: 'password+totp' }
            : { path: `/api/documents/${i}`, method: 'GET' };
    return {
      Id: `${t.source}:${100000 + i}`,
      Timestamp: new Date(start + i * 37).toISOString(),
      EventType: t.type,
      Category: t.category,
      Severity: t.defaultSeverity,
      Outcome: t.type === 'Login.Failure' ? 'failure' : t.type === 'Access.Denied' ? 'denied' : 'success',
      SourceTable: t.source,
      Actor: {
        UserId: 1000 + (i % 250),
        Username: `user${i % 250}@contoso.example`,
        ClientId: t.type === 'Audit.SiemPoll' ? 'k_4f2a9c1e' : null,
      },
      Target: { Type: 'Document', Id: String(i), Name: `Runbook ${i % 90} — Firewall (Überblick)` },
      Ip: i % 5 ? `10.${(i >> 8) & 255}.${i & 255}.${i % 7}` : `2001:db8::${(i % 65535).toString(16)}`,
      UserAgent: UA,
      Controls: [...t.controls],
      Details: details,
      Seq: 5_000_000 + i,
    };
  });
}

function p50(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const events = page(EVENTS);
const cases: Array<[string, () => number]> = [
  ['json (JSON.stringify of each envelope)', () => events.reduce((n, e) => n + JSON.stringify(e).length, 0)],
  ['cef', () => events.reduce((n, e) => n + presentCef(e, CTX).length, 0)],
  ['leef', () => events.reduce((n, e) => n + presentLeef(e, CTX).length, 0)],
  ['syslog', () => events.reduce((n, e) => n + presentSyslog(e, CTX).length, 0)],
];

console.log(`text formats: ${EVENTS} events a page, ${RUNS} runs each, p50 (node ${process.version})`);
const base = { ms: 0 };
for (const [name, fn] of cases) {
  for (let i = 0; i < 3; i++) fn(); // warm up
  const times: number[] = [];
  let chars = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    chars = fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = p50(times);
  if (!base.ms) base.ms = ms;
  console.log(
    `${name.padEnd(40)} p50 ${ms.toFixed(2).padStart(7)} ms  ${(chars / EVENTS).toFixed(0).padStart(5)} chars/event  ${(ms / base.ms).toFixed(2)}x json`,
  );
}
