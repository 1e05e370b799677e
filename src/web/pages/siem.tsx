/**
 * The SIEM integration: issue a key (its plaintext shown once, here, and never again), list keys
 * (never a secret: the API does not have them), revoke with a confirmation, and a key's page: its
 * totals (polls, events delivered, unique and re-read), its refusals, and its poll history with the
 * cursors in and out and the Seq range of each poll, paged back to the first poll.
 */
import { useEffect, useRef, useState } from 'react';
import {
  api,
  query,
  type IssuedKey,
  type PollRecord,
  type PollTotals,
  type Refusal,
  type SiemKey,
  type SiemLog,
} from '../api.ts';
import {
  Badge,
  ConfirmDialog,
  CopyButton,
  Empty,
  ErrorAlert,
  Field,
  Page,
  Saved,
  Section,
  Time,
  formLevel,
  isForbidden,
  useLoad,
  useSubmit,
} from '../components/ui.tsx';
import { Link } from '../router.tsx';
import { ADMIN_CRUMB } from './admin-home.tsx';

const CRUMBS = [ADMIN_CRUMB, { to: '/admin/integrations', label: 'Integrations' }];
const SIEM_CRUMBS = [...CRUMBS, { to: '/admin/integrations/siem', label: 'SIEM' }];

const GUIDES = [
  { href: '/docs/siem/README.md', label: 'Overview: which SIEM, which setup' },
  { href: '/docs/siem/splunk/README.md', label: 'Splunk' },
  { href: '/docs/siem/sentinel/README.md', label: 'Microsoft Sentinel' },
  { href: '/docs/siem/elastic/README.md', label: 'Elastic' },
  { href: '/docs/siem/wazuh/README.md', label: 'Wazuh' },
  { href: '/docs/siem/qradar/README.md', label: 'QRadar' },
  { href: '/docs/api.md', label: 'API reference (the feed, its cursor and errors)' },
  { href: '/docs/troubleshooting.md', label: 'Troubleshooting (401, 429, gaps, comparing cursors)' },
];

/** The variable the UI and the docs keep the key in. */
export const KEY_VARIABLE = 'ITPORTAL_SIEM_KEY';

/**
 * A first poll that keeps the key off every command line (shell history, `ps`): the key is read
 * into a variable without echo, and curl reads the header from its standard input, fed by printf
 * (a shell builtin, so no process ever carries the key as an argument).
 */
export function firstPollCommand(): string {
  return `printf 'Authorization: ApiKey %s\n' "$${KEY_VARIABLE}" | curl -s --compressed -H @- "${window.location.origin}/api/siem/events?limit=100"`;
}

const READ_KEY = `read -rsp 'SIEM key: ' ${KEY_VARIABLE} && export ${KEY_VARIABLE}`;

function StatusBadge({ status }: { status: string }) {
  return <Badge tone={status === 'active' ? 'success' : 'muted'}>{status}</Badge>;
}

function useRevoke(onDone: (revoked: SiemKey) => Promise<void> | void) {
  const [target, setTarget] = useState<SiemKey | null>(null);
  const submit = useSubmit(async () => {
    if (!target) return;
    const revoked = await api<SiemKey>('DELETE', `/api/admin/siem/keys/${target.id}`);
    setTarget(null);
    await onDone(revoked);
  });
  const dialog = (
    <ConfirmDialog
      open={target !== null}
      title="Revoke this key?"
      body={
        <p>
          <strong>{target?.description}</strong> (<code>{target?.keyPrefix}…</code>) stops working on its next
          poll, on every node. A revoked key cannot be restored: the SIEM will need a new key.
        </p>
      }
      confirmLabel="Revoke key"
      busy={submit.busy}
      error={submit.error}
      onCancel={() => {
        submit.setError(null);
        setTarget(null);
      }}
      onConfirm={() => void submit.run()}
    />
  );
  return { ask: setTarget, dialog };
}

/** How far a key has read the trail: its last Seq and its lag behind the head (events and time). */
function Delivery({ k }: { k: SiemKey }) {
  if (k.deliveredThroughSeq === null) {
    return (
      <>
        <span className="muted">nothing yet</span>
        {k.lagEvents !== null && k.lagEvents > 0 && (
          <span className="sub">{k.lagEvents.toLocaleString('en-US')} events waiting</span>
        )}
      </>
    );
  }
  return (
    <>
      <span>through Seq {k.deliveredThroughSeq.toLocaleString('en-US')}</span>
      <span className="sub">
        {k.lagEvents === 0
          ? 'caught up'
          : `${(k.lagEvents ?? 0).toLocaleString('en-US')} events behind${k.lagSeconds ? `, ${formatLag(k.lagSeconds)}` : ''}`}
      </span>
    </>
  );
}

export function formatLag(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

export function verifyCommand(): string {
  return 'itportal verify --key-file itportal-verifier.pub events.ndjson*';
}

/** The tamper-evident log: head, latest checkpoint and the verifier key (SPEC §8). */
function LogSection() {
  const log = useLoad<SiemLog>('/api/admin/siem/log');
  return (
    <Section title="Tamper-evident log">
      <ErrorAlert error={log.error} />
      {log.data && (
        <>
          <dl className="facts">
            <dt>Log head</dt>
            <dd>
              {log.data.Trail.Size.toLocaleString('en-US')} events (Seq 0–
              {Math.max(0, log.data.Trail.Size - 1).toLocaleString('en-US')})
              {log.data.Trail.LatestEventAt && (
                <span className="sub">
                  newest event <Time iso={log.data.Trail.LatestEventAt} />
                </span>
              )}
            </dd>
            <dt>Poll log</dt>
            <dd>{log.data.Polls.Size.toLocaleString('en-US')} poll records</dd>
          </dl>
          <h3>Latest checkpoint</h3>
          <pre className="snippet" aria-label="Latest checkpoint">
            {log.data.Trail.Checkpoint}
          </pre>
          <h3>Verifier key</h3>
          <pre className="snippet" aria-label="Verifier key">
            {log.data.VerifierKey}
          </pre>
          <CopyButton text={log.data.VerifierKey} label="Copy verifier key" />
          <p>
            Verify: save the verifier key as <code>itportal-verifier.pub</code> (or fetch{' '}
            <code>GET /api/siem/log/key</code>), then, beside the output of <code>itportal siem pull</code>:
          </p>
          <pre className="snippet" aria-label="Verify command">
            {verifyCommand()}
          </pre>
          <CopyButton text={verifyCommand()} label="Copy verify command" />
        </>
      )}
    </Section>
  );
}

export function SiemPage() {
  const keys = useLoad<SiemKey[]>('/api/admin/siem/keys');
  const [description, setDescription] = useState('');
  const [allowedCidrs, setAllowedCidrs] = useState('');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const issuedHeading = useRef<HTMLHeadingElement>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const issue = useSubmit(async () => {
    const key = await api<IssuedKey>('POST', '/api/admin/siem/keys', { description, allowedCidrs });
    setNotice(null);
    setIssued(key);
    setDescription('');
    setAllowedCidrs('');
    await keys.reload();
    window.setTimeout(() => issuedHeading.current?.focus(), 0);
  });
  const revoke = useRevoke(async (k) => {
    setNotice(`Revoked “${k.description}” (${k.keyPrefix}…): its next poll gets a 401, on every node.`);
    await keys.reload();
  });

  if (isForbidden(keys.error)) {
    return (
      <Page title="SIEM" crumbs={CRUMBS}>
        <ErrorAlert error={keys.error} />
      </Page>
    );
  }
  return (
    <Page
      title="SIEM"
      crumbs={CRUMBS}
      intro="Your SIEM polls GET /api/siem/events every 5–15 minutes with an API key and receives the audit trail as normalized JSON events, each exactly once."
    >
      <Saved text={notice} />
      {issued && (
        <section className="card card-once" aria-labelledby="issued-heading">
          <h2 id="issued-heading" ref={issuedHeading} tabIndex={-1}>
            New key for “{issued.description}”
          </h2>
          <p className="warning-text">
            <strong>Copy this key now: you won't see it again.</strong> The portal keeps only a hash of it. If
            it is lost, generate a new key and revoke this one.
          </p>
          <div className="secret-row">
            <label htmlFor="issued-key">API key</label>
            <input
              id="issued-key"
              className="mono"
              readOnly
              value={issued.key}
              onFocus={(e) => e.target.select()}
            />
            <CopyButton text={issued.key} label="Copy key" />
          </div>
          <h3>First poll</h3>
          <p>
            In a terminal that can reach the portal, put the key in <code>{KEY_VARIABLE}</code> (paste it at
            the prompt: it is not echoed and stays out of the shell history):
          </p>
          <pre className="snippet" aria-label="Read the key">
            {READ_KEY}
          </pre>
          <CopyButton text={READ_KEY} label="Copy" />
          <p>Then poll (the key goes to curl on its standard input, never on a command line):</p>
          <pre className="snippet" aria-label="First poll command">
            {firstPollCommand()}
          </pre>
          <CopyButton text={firstPollCommand()} label="Copy command" />
          <div className="form-actions">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                setNotice(
                  `Key “${issued.description}” (${issued.keyPrefix}…) is active. Its secret is no longer shown here or anywhere in the portal.`,
                );
                setIssued(null);
              }}
            >
              I have stored the key
            </button>
          </div>
        </section>
      )}

      <Section title="Generate a key">
        <form className="form-grid" onSubmit={issue.onSubmit()} noValidate>
          <Field
            label="Description"
            name="description"
            hint="What the key is for, e.g. “Splunk production”."
            error={issue.error}
          >
            {(p) => (
              <input
                {...p}
                maxLength={200}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Allowed CIDRs"
            name="allowedCidrs"
            hint="Comma-separated IPv4/IPv6 addresses or CIDRs, e.g. 10.0.0.0/24, 2001:db8::/32. Blank: any address."
            error={issue.error}
          >
            {(p) => (
              <input
                {...p}
                className="mono"
                spellCheck={false}
                value={allowedCidrs}
                onChange={(e) => setAllowedCidrs(e.target.value)}
              />
            )}
          </Field>
          <ErrorAlert error={formLevel(issue.error, ['description', 'allowedCidrs'])} />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={issue.busy}>
              Generate New Key
            </button>
          </div>
        </form>
      </Section>

      <Section title="Keys">
        <ErrorAlert error={keys.error} />
        {keys.data && keys.data.length === 0 && <Empty>No keys yet. Generate one above.</Empty>}
        {keys.data && keys.data.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Allowed CIDRs</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.id}>
                    <td data-label="Key">
                      <Link to={`/admin/integrations/siem/keys/${k.id}`}>{k.description}</Link>
                      <code className="sub">{k.keyPrefix}…</code>
                    </td>
                    <td data-label="Created">
                      <Time iso={k.createdAt} />
                      <span className="sub">by {k.createdBy ?? 'the command line'}</span>
                    </td>
                    <td data-label="Last used">
                      <Time iso={k.lastUsedAt} empty="never" />
                      {k.lastUsedFrom && <span className="sub">from {k.lastUsedFrom}</span>}
                    </td>
                    <td data-label="Delivered">
                      <Delivery k={k} />
                    </td>
                    <td data-label="Allowed CIDRs">
                      {k.allowedCidrs ? (
                        <code>{k.allowedCidrs}</code>
                      ) : (
                        <span className="muted">any address</span>
                      )}
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={k.status} />
                    </td>
                    <td data-label="Actions" className="actions">
                      <Link
                        className="btn btn-secondary btn-small"
                        to={`/admin/integrations/siem/keys/${k.id}`}
                      >
                        Poll history<span className="visually-hidden"> of {k.description}</span>
                      </Link>
                      {k.status === 'active' && (
                        <button
                          type="button"
                          className="btn btn-danger-outline btn-small"
                          onClick={() => revoke.ask(k)}
                        >
                          Revoke<span className="visually-hidden"> {k.description}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <LogSection />

      <Section title="Set up your SIEM">
        <p>
          A first poll, with the key in the environment variable <code>{KEY_VARIABLE}</code> (set it with{' '}
          <code>{READ_KEY}</code>):
        </p>
        <pre className="snippet" aria-label="First poll command with a placeholder">
          {firstPollCommand()}
        </pre>
        <CopyButton text={firstPollCommand()} label="Copy command" />
        <p>
          Send back each answer's <code>NextCursor</code> as <code>cursor</code>; poll again at once while{' '}
          <code>HasMore</code> is true. Setup guides:
        </p>
        <ul className="link-list">
          {GUIDES.map((g) => (
            <li key={g.href}>
              <a href={g.href} target="_blank" rel="noreferrer">
                {g.label}
              </a>
            </li>
          ))}
        </ul>
      </Section>
      {revoke.dialog}
    </Page>
  );
}

/** A cursor shortened for the table (its ends), the whole one on hover and by the copy button. */
export function shortCursor(cursor: string): string {
  return cursor.length <= 16 ? cursor : `${cursor.slice(0, 8)}…${cursor.slice(-6)}`;
}

function Cursor({ value, label }: { value: string | null; label: string }) {
  if (!value) return <span className="muted">none (start)</span>;
  return (
    <span className="cursor-cell">
      <code title={value}>{shortCursor(value)}</code>
      <CopyButton text={value} label={label} />
    </span>
  );
}

function seqRange(p: PollRecord): string {
  if (p.firstSeq === null || p.lastSeq === null) return '—';
  const range = p.firstSeq === p.lastSeq ? `${p.firstSeq}` : `${p.firstSeq}–${p.lastSeq}`;
  return p.log && p.log !== 'trail' ? `${range} (${p.log} log)` : range;
}

const REASONS: Record<string, string> = {
  bad_secret: 'wrong secret',
  revoked: 'key revoked',
  address_not_allowed: 'address not in Allowed CIDRs',
};

const POLL_PAGE = 100;

/** The poll history, newest first, POLL_PAGE at a time back to the first poll (keyset on the poll id). */
function usePollHistory(id: string | null) {
  const [rows, setRows] = useState<PollRecord[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const loadMore = async (from: PollRecord[]) => {
    if (!id) return;
    setLoading(true);
    try {
      const last = from[from.length - 1];
      const before = last ? Number(last.id.split(':')[1]) : undefined;
      const page = await api<PollRecord[]>(
        'GET',
        `/api/admin/siem/keys/${id}/polls${query({ limit: POLL_PAGE, before })}`,
      );
      setRows([...from, ...page]);
      setDone(page.length < POLL_PAGE);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setRows([]);
    void loadMore([]);
  }, [id]);
  return { rows, done, error, loading, more: () => loadMore(rows) };
}

function Totals({ totals }: { totals: PollTotals }) {
  const n = (v: number) => v.toLocaleString('en-US');
  return (
    <dl className="facts">
      <dt>Polls</dt>
      <dd>
        {n(totals.polls)}
        {totals.firstPollAt && (
          <span className="sub">
            since <Time iso={totals.firstPollAt} />
          </span>
        )}
      </dd>
      <dt>Events delivered</dt>
      <dd>{n(totals.eventsDelivered)}</dd>
      <dt>Unique events</dt>
      <dd>{n(totals.uniqueEvents)}</dd>
      <dt>Re-read events</dt>
      <dd>
        {n(totals.reReadEvents)}
        <span className="sub">
          served again to this key by a retried or earlier cursor (overlapping Seq ranges); a SIEM that keeps
          its cursor re-reads none
        </span>
      </dd>
    </dl>
  );
}

export function SiemKeyPage({ id }: { id: string }) {
  const valid = /^[0-9a-f]{16}$/.test(id);
  const keys = useLoad<SiemKey[]>('/api/admin/siem/keys');
  const totals = useLoad<PollTotals>(valid ? `/api/admin/siem/keys/${id}/totals` : null);
  const refusals = useLoad<Refusal[]>(valid ? `/api/admin/siem/keys/${id}/refusals?limit=50` : null);
  const polls = usePollHistory(valid ? id : null);
  const [notice, setNotice] = useState<string | null>(null);
  const revoke = useRevoke(async (k) => {
    setNotice(`Revoked: “${k.description}” gets a 401 on its next poll, on every node.`);
    await keys.reload();
  });
  const key = keys.data?.find((k) => k.id === id);
  const title = key ? key.description : 'SIEM key';

  if (isForbidden(keys.error)) {
    return (
      <Page title={title} crumbs={SIEM_CRUMBS}>
        <ErrorAlert error={keys.error} />
      </Page>
    );
  }
  if (keys.data && !key) {
    return (
      <Page title="SIEM key not found" crumbs={SIEM_CRUMBS}>
        <p>
          No key <code>{id}</code> in this portal. <Link to="/admin/integrations/siem">Back to the keys</Link>
          .
        </p>
      </Page>
    );
  }
  return (
    <Page
      title={title}
      crumbs={SIEM_CRUMBS}
      actions={
        key?.status === 'active' ? (
          <button type="button" className="btn btn-danger-outline" onClick={() => revoke.ask(key)}>
            Revoke
          </button>
        ) : undefined
      }
    >
      <Saved text={notice} />
      <ErrorAlert error={keys.error ?? totals.error ?? refusals.error} />
      {key && (
        <Section title="Key">
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={key.status} />
              {key.revokedAt && (
                <span className="sub">
                  revoked <Time iso={key.revokedAt} /> by {key.revokedBy ?? 'the command line'}
                </span>
              )}
            </dd>
            <dt>Key</dt>
            <dd>
              <code>{key.keyPrefix}…</code> <span className="muted">(the secret is never shown again)</span>
            </dd>
            <dt>Created</dt>
            <dd>
              <Time iso={key.createdAt} /> by {key.createdBy ?? 'the command line'}
            </dd>
            <dt>Last used</dt>
            <dd>
              <Time iso={key.lastUsedAt} empty="never" />
              {key.lastUsedFrom && <> from {key.lastUsedFrom}</>}
            </dd>
            <dt>Delivered</dt>
            <dd>
              <Delivery k={key} />
            </dd>
            <dt>Allowed CIDRs</dt>
            <dd>{key.allowedCidrs ? <code>{key.allowedCidrs}</code> : 'any address'}</dd>
          </dl>
        </Section>
      )}
      <Section title="Totals">{totals.data && <Totals totals={totals.data} />}</Section>
      <Section title="Refused polls">
        <p className="muted">
          Polls with this key that were refused (Access.Denied): a wrong secret, the key revoked, an address
          outside its Allowed CIDRs. A flood is recorded as its first refusal and summaries.
        </p>
        {refusals.data && refusals.data.length === 0 && <Empty>No refused polls with this key.</Empty>}
        {refusals.data && refusals.data.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive refusals-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">From</th>
                  <th scope="col">Reason</th>
                  <th scope="col">User agent</th>
                </tr>
              </thead>
              <tbody>
                {refusals.data.map((r) => (
                  <tr key={r.id}>
                    <td data-label="When">
                      <Time iso={r.at} />
                    </td>
                    <td data-label="From">{r.ip ?? '—'}</td>
                    <td data-label="Reason">
                      {r.reason ? (REASONS[r.reason] ?? r.reason) : '—'}
                      {r.suppressed > 0 && (
                        <span className="sub">and {r.suppressed.toLocaleString('en-US')} more like it</span>
                      )}
                    </td>
                    <td data-label="User agent" className="ua">
                      {r.userAgent ?? '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Poll history">
        <p className="muted">
          The audit of the audit: every successful poll with this key, newest first. A poll&apos;s cursor in
          is the cursor out of the poll before it; the same cursor in twice is a retry.
        </p>
        <ErrorAlert error={polls.error} />
        {polls.done && polls.rows.length === 0 && <Empty>No polls with this key yet.</Empty>}
        {polls.rows.length > 0 && (
          <div className="table-wrap">
            <table className="table responsive polls-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">From</th>
                  <th scope="col">Events</th>
                  <th scope="col">Seq</th>
                  <th scope="col">Cursor in</th>
                  <th scope="col">Cursor out</th>
                  <th scope="col">Backlog left</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Filter</th>
                  <th scope="col">User agent</th>
                </tr>
              </thead>
              <tbody>
                {polls.rows.map((p) => (
                  <tr key={p.id}>
                    <td data-label="When">
                      <Time iso={p.at} />
                    </td>
                    <td data-label="From">{p.ip ?? '—'}</td>
                    <td data-label="Events" className="num">
                      {p.eventCount.toLocaleString('en-US')}
                    </td>
                    <td data-label="Seq" className="num">
                      {seqRange(p)}
                    </td>
                    <td data-label="Cursor in">
                      <Cursor value={p.cursorIn} label="Copy cursor in" />
                    </td>
                    <td data-label="Cursor out">
                      <Cursor value={p.cursorOut} label="Copy cursor out" />
                    </td>
                    <td data-label="Backlog left">{p.hasMore ? 'yes' : 'no'}</td>
                    <td data-label="Duration" className="num">
                      {p.durationMs} ms
                    </td>
                    <td data-label="Filter">
                      {p.filter ? <code>{p.filter}</code> : <span className="muted">none</span>}
                      {p.format && p.format !== 'json' ? (
                        <>
                          {' '}
                          <code>format={p.format}</code>
                        </>
                      ) : null}
                    </td>
                    <td data-label="User agent" className="ua">
                      {p.userAgent ?? '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="pager">
          <span className="muted" role="status">
            {polls.rows.length.toLocaleString('en-US')} of{' '}
            {(totals.data?.polls ?? polls.rows.length).toLocaleString('en-US')} polls shown
          </span>
          {!polls.done && (
            <button
              type="button"
              className="btn btn-secondary"
              disabled={polls.loading}
              onClick={() => void polls.more()}
            >
              Load older polls
            </button>
          )}
        </div>
      </Section>
      {revoke.dialog}
    </Page>
  );
}
