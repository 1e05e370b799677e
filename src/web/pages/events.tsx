/**
 * The audit event viewer: the normalized events newest first, filtered on the server (EventType,
 * Severity, Outcome, actor, time range), paged with the API's NextPage token, each event's full JSON
 * on click, and a chart of events over time by type. The filters live in the URL, so a view can be
 * reloaded and shared. Times everywhere are local, 24-hour, with the zone named; the From/To inputs
 * take the form the table shows. The chart reads exactly the list's filters (never rounded to the
 * hour), so its count is the list's.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, query, type AuditEvent, type AuditPage } from '../api.ts';
import {
  Badge,
  Empty,
  ErrorAlert,
  Field,
  Page,
  Time,
  formatDateTime,
  isForbidden,
  parseLocalDateTime,
  useLoad,
  zoneId,
  zoneName,
} from '../components/ui.tsx';
import { navigate, useLocation } from '../router.tsx';
import { EventChart } from '../components/event-chart.tsx';

export const EVENT_TYPES = [
  'Login.Success',
  'Login.Failure',
  'Login.Logout',
  'Access.Object',
  'Access.Denied',
  'PolicyChange',
  'AdminAction',
  'Audit.SiemPoll',
] as const;
const TYPE_CHOICES: Array<[string, string]> = [
  ['', 'All event types'],
  ['Login.*', 'Login.* (all sign-in events)'],
  ['Access.*', 'Access.* (all access events)'],
  ...EVENT_TYPES.map((t): [string, string] => [t, t]),
];
const SEVERITIES = ['info', 'warning', 'critical'];
const OUTCOMES = ['success', 'denied', 'failure'];
const FILTERS = ['eventType', 'severity', 'outcome', 'actor', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

const pad = (n: number) => String(n).padStart(2, '0');
/** ISO instant → the filter input's text: local, 24-hour, to the minute (the table's form). */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
/** The input's text → an ISO instant; text that is not a time goes as typed, for the API to name. */
function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = parseLocalDateTime(value);
  return d ? d.toISOString() : value;
}
const isIso = (v: string) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v);

function severityTone(s: string) {
  return s === 'critical' ? 'danger' : s === 'warning' ? 'warning' : 'info';
}
function outcomeTone(o: string) {
  return o === 'success' ? 'success' : o === 'denied' ? 'danger' : 'warning';
}

function targetText(e: AuditEvent): string {
  const t = e.Target;
  if (!t.Type) return '—';
  return [t.Type, t.Name ?? t.Id].filter(Boolean).join(': ');
}

export function EventsPage() {
  const { search } = useLocation();
  const applied: Filters = Object.fromEntries(FILTERS.map((f) => [f, search.get(f) ?? ''])) as Filters;
  const appliedKey = FILTERS.map((f) => applied[f]).join('|');
  const [draft, setDraft] = useState<Filters>(applied);
  const [pages, setPages] = useState<Array<string | undefined>>([undefined]);
  const [selected, setSelected] = useState<AuditEvent | null>(null);
  const before = pages[pages.length - 1];

  useEffect(() => {
    setDraft(applied);
    setPages([undefined]);
  }, [appliedKey]);

  const list = useLoad<AuditPage>(`/api/admin/audit/events${query({ ...applied, limit: 50, before })}`);

  const [inputError, setInputError] = useState<ApiError | null>(null);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    // A time the inputs cannot read is named here, in the form the inputs take.
    const bad = (['from', 'to'] as const).find(
      (f) => draft[f] && !isIso(draft[f]) && !parseLocalDateTime(draft[f]),
    );
    if (bad) {
      setInputError(
        new ApiError(
          400,
          'invalid_request',
          `${bad}: expected a 24-hour time such as 2026-12-07 14:30, in ${zoneName()}`,
        ),
      );
      return;
    }
    setInputError(null);
    navigate(
      `/admin/events${query({ ...draft, from: fromLocalInput(draft.from), to: fromLocalInput(draft.to) })}`,
    );
  };
  const reset = () => navigate('/admin/events');
  const timeHint = `24-hour, ${zoneName()} (${zoneId()})`;

  if (list.data === undefined && !list.error) {
    return (
      <Page title="Audit events">
        <p className="muted" role="status">
          Loading events…
        </p>
      </Page>
    );
  }
  if (isForbidden(list.error)) {
    return (
      <Page title="Audit events">
        <ErrorAlert error={list.error} />
      </Page>
    );
  }
  return (
    <Page title="Audit events" intro="The normalized events the SIEM receives, newest first.">
      <section className="card" aria-labelledby="filters-heading">
        <h2 id="filters-heading">Filters</h2>
        <form className="filters" onSubmit={apply} noValidate>
          <Field label="Event type" name="eventType" error={list.error}>
            {(p) => (
              <select
                {...p}
                value={draft.eventType}
                onChange={(e) => setDraft({ ...draft, eventType: e.target.value })}
              >
                {TYPE_CHOICES.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Severity" name="severity" error={list.error}>
            {(p) => (
              <select
                {...p}
                value={draft.severity}
                onChange={(e) => setDraft({ ...draft, severity: e.target.value })}
              >
                <option value="">Any severity</option>
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Outcome" name="outcome" error={list.error}>
            {(p) => (
              <select
                {...p}
                value={draft.outcome}
                onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}
              >
                <option value="">Any outcome</option>
                {OUTCOMES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Actor" name="actor" hint="Exact username" error={list.error}>
            {(p) => (
              <input
                {...p}
                value={draft.actor}
                onChange={(e) => setDraft({ ...draft, actor: e.target.value })}
              />
            )}
          </Field>
          <Field label="From" name="from" hint={timeHint} error={inputError ?? list.error}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                placeholder="YYYY-MM-DD HH:MM"
                spellCheck={false}
                value={isIso(draft.from) ? toLocalInput(draft.from) : draft.from}
                onChange={(e) => setDraft({ ...draft, from: e.target.value })}
              />
            )}
          </Field>
          <Field label="To" name="to" hint={timeHint} error={inputError ?? list.error}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                placeholder="YYYY-MM-DD HH:MM"
                spellCheck={false}
                value={isIso(draft.to) ? toLocalInput(draft.to) : draft.to}
                onChange={(e) => setDraft({ ...draft, to: e.target.value })}
              />
            )}
          </Field>
          <div className="filter-actions">
            <button type="submit" className="btn btn-primary">
              Apply filters
            </button>
            <button type="button" className="btn btn-secondary" onClick={reset}>
              Reset
            </button>
          </div>
        </form>
      </section>

      <EventsOverTime filters={applied} filtersKey={appliedKey} />

      <section className="card" aria-labelledby="events-heading" aria-busy={list.loading}>
        <h2 id="events-heading">Events</h2>
        <ErrorAlert error={list.error} />
        {list.data?.Events.length === 0 && <Empty>No events match these filters.</Empty>}
        {list.data && list.data.Events.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive events-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Event type</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">IP</th>
                </tr>
              </thead>
              <tbody>
                {list.data.Events.map((e) => (
                  <tr key={e.Id} className="clickable" onClick={() => setSelected(e)}>
                    <td data-label="Time">
                      <Time iso={e.Timestamp} />
                    </td>
                    <td data-label="Event type">
                      <button
                        type="button"
                        className="linklike"
                        onClick={(ev) => {
                          ev.stopPropagation();
                          setSelected(e);
                        }}
                        aria-label={`${e.EventType} at ${e.Timestamp}: show the full event`}
                      >
                        <span className={`swatch t-${e.EventType.replace('.', '-')}`} aria-hidden="true" />
                        {e.EventType}
                      </button>
                    </td>
                    <td data-label="Severity">
                      <Badge tone={severityTone(e.Severity)}>{e.Severity}</Badge>
                    </td>
                    <td data-label="Outcome">
                      <Badge tone={outcomeTone(e.Outcome)}>{e.Outcome}</Badge>
                    </td>
                    <td data-label="Actor">{e.Actor.Username ?? <span className="muted">—</span>}</td>
                    <td data-label="Target" className="break">
                      {targetText(e)}
                    </td>
                    <td data-label="IP">{e.Ip ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="pager">
          <button
            type="button"
            className="btn btn-secondary"
            disabled={pages.length <= 1}
            onClick={() => setPages((p) => p.slice(0, -1))}
          >
            Newer
          </button>
          <span className="muted">Page {pages.length}</span>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={!list.data?.NextPage}
            onClick={() => list.data?.NextPage && setPages((p) => [...p, list.data!.NextPage!])}
          >
            Older
          </button>
        </div>
      </section>
      <EventDialog event={selected} onClose={() => setSelected(null)} />
    </Page>
  );
}

function EventDialog({ event, onClose }: { event: AuditEvent | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (event && !d.open) {
      d.showModal();
      closeRef.current?.focus();
    } else if (!event && d.open) d.close();
  }, [event]);
  return (
    <dialog
      ref={ref}
      className="dialog dialog-wide"
      aria-labelledby="event-json-title"
      onCancel={(e) => (e.preventDefault(), onClose())}
    >
      <h2 id="event-json-title">{event ? `${event.EventType} · ${event.Id}` : 'Event'}</h2>
      <pre className="json" tabIndex={0} aria-label="The event as JSON">
        {event ? JSON.stringify(event, null, 2) : ''}
      </pre>
      <div className="dialog-actions">
        <button ref={closeRef} type="button" className="btn btn-secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MAX_CHART_PAGES = 20;
const BUCKETS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** The bar width for a window: the smallest of BUCKETS giving at most 48 bars (whole days beyond). */
export function bucketFor(span: number): number {
  return BUCKETS.find((b) => span / b <= 48) ?? Math.ceil(span / 48 / DAY) * DAY;
}

/**
 * The chart's window: exactly the filter's range, so the chart counts what the list lists. Without
 * a From, the 24 hours before To (or now); without a To, up to now.
 */
function chartWindow(filters: Filters, now: number): { from: string; to: string } {
  const to = filters.to ? Date.parse(filters.to) : NaN;
  const from = filters.from ? Date.parse(filters.from) : NaN;
  const end = Number.isFinite(to) ? to : now;
  const start = Number.isFinite(from) ? from : end - DAY;
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

interface ChartData {
  events: AuditEvent[];
  truncated: boolean;
  start: number;
  end: number;
  /** True when no time filter matched nothing recent and the chart shows the newest matching events. */
  newest: boolean;
}

async function readAll(filters: Record<string, string | undefined>, pages: number) {
  const events: AuditEvent[] = [];
  let before: string | undefined;
  for (let i = 0; ; i++) {
    const page = await api<AuditPage>(
      'GET',
      `/api/admin/audit/events${query({ ...filters, limit: 500, before })}`,
    );
    events.push(...page.Events);
    if (!page.NextPage) return { events, truncated: false };
    if (i + 1 >= pages) return { events, truncated: true };
    before = page.NextPage;
  }
}

function EventsOverTime({ filters, filtersKey }: { filters: Filters; filtersKey: string }) {
  const [state, setState] = useState<ChartData | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let cancelled = false;
    const range = chartWindow(filters, Date.now());
    (async () => {
      const read = await readAll({ ...filters, from: range.from, to: range.to }, MAX_CHART_PAGES);
      let data: ChartData = {
        ...read,
        start: Date.parse(range.from),
        end: Date.parse(range.to),
        newest: false,
      };
      if (read.events.length === 0 && !filters.from && !filters.to) {
        // Nothing in the last day: chart the newest matching events rather than an empty frame.
        const latest = await readAll({ ...filters, from: undefined, to: undefined }, 1);
        const times = latest.events.map((e) => Date.parse(e.Timestamp));
        if (times.length > 0) {
          const end = Math.max(...times) + 1;
          data = { ...latest, start: Math.min(...times), end, newest: true };
        }
      }
      if (!cancelled) {
        setState(data);
        setError(null);
      }
    })().catch((e) => !cancelled && setError(e));
    return () => {
      cancelled = true;
    };
  }, [filtersKey]);

  const bucketMs = state ? bucketFor(Math.max(state.end - state.start, MINUTE)) : HOUR;
  const buckets = useMemo(() => {
    if (!state) return [];
    const first = Math.floor(state.start / bucketMs) * bucketMs;
    const n = Math.max(1, Math.ceil((state.end - first) / bucketMs));
    const b = Array.from({ length: n }, (_, i) => ({
      start: first + i * bucketMs,
      counts: {} as Record<string, number>,
    }));
    for (const e of state.events) {
      const bucket = b[Math.floor((Date.parse(e.Timestamp) - first) / bucketMs)];
      if (bucket) bucket.counts[e.EventType] = (bucket.counts[e.EventType] ?? 0) + 1;
    }
    return b;
  }, [state, bucketMs]);

  const count = state?.events.length ?? 0;
  const summary = state
    ? `${count} events from ${formatDateTime(new Date(state.start))} to ${formatDateTime(new Date(state.end))}`
    : '';
  return (
    <section className="card" aria-labelledby="chart-heading">
      <h2 id="chart-heading">Events over time, by type</h2>
      {error ? <ErrorAlert error={error} /> : null}
      {state && (
        <>
          <p className="muted" data-testid="chart-caption">
            {state.newest ? 'None in the last 24 hours; the newest ' : ''}
            {count.toLocaleString('en-US')} events {state.newest ? 'matching, ' : ''}from{' '}
            <Time iso={new Date(state.start).toISOString()} /> to{' '}
            <Time iso={new Date(state.end).toISOString()} />
            {state.truncated && ' (the newest 10,000 only)'}
          </p>
          <EventChart buckets={buckets} bucketMs={bucketMs} types={EVENT_TYPES} summary={summary} />
        </>
      )}
    </section>
  );
}
