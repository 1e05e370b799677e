/**
 * The UI's building blocks: a page frame that takes focus on navigation, labelled fields that show
 * the API's message under the field it names, alerts, copy buttons, a confirmation dialog.
 */
import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type ReactElement,
  type ReactNode,
  type SyntheticEvent,
} from 'react';
import { ApiError, api } from '../api.ts';
import { Link } from '../router.tsx';

export function Page({
  title,
  crumbs,
  intro,
  actions,
  children,
}: {
  title: string;
  crumbs?: Array<{ to: string; label: string }>;
  intro?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · IT Portal`;
    h1.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div className="page">
      {crumbs && crumbs.length > 0 && (
        <nav className="crumbs" aria-label="Breadcrumb">
          <ol>
            {crumbs.map((c) => (
              <li key={c.to}>
                <Link to={c.to}>{c.label}</Link>
              </li>
            ))}
            <li aria-current="page">{title}</li>
          </ol>
        </nav>
      )}
      <div className="page-head">
        <h1 ref={h1} tabIndex={-1}>
          {title}
        </h1>
        {actions && <div className="page-actions">{actions}</div>}
      </div>
      {intro && <p className="intro">{intro}</p>}
      {children}
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  const generated = useId();
  const headingId = id ?? `s${generated.replace(/:/g, '')}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

/** The field an API message names: `minLength: must be >= 8` → "minLength"; `allow.0: ...` → "allow". */
export function fieldOf(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const m = /^([A-Za-z][A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_.]+)?:/.exec(error.message);
  return m ? m[1]! : null;
}

/** `allowedCidrs: "10.0.0.0/33" is not ...` → `Allowed CIDRs: "10.0.0.0/33" is not ...` (the label people see). */
export function labelledMessage(label: string, message: string): string {
  const m = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_.]+)?:\s*/.exec(message);
  return m ? `${label}: ${message.slice(m[0].length)}` : message;
}

/** An error for the alert under a form: none when a Field already shows it beside its input. */
export const formLevel = (error: unknown, fields: readonly string[]): unknown =>
  fields.includes(fieldOf(error) ?? '') ? null : error;

export function Field({
  label,
  name,
  hint,
  error,
  children,
}: {
  label: string;
  /** The API's name for the field, to show its error message here. */
  name: string;
  hint?: ReactNode;
  error?: unknown;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean | undefined;
    'aria-describedby': string | undefined;
  }) => ReactElement;
}) {
  const id = `f-${name}-${useId().replace(/:/g, '')}`;
  const bad = fieldOf(error) === name && error instanceof ApiError;
  const describedBy = [hint ? `${id}-hint` : null, bad ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div className={`field${bad ? ' field-bad' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        name,
        'aria-invalid': bad || undefined,
        'aria-describedby': describedBy || undefined,
      })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {bad && (
        <p className="field-error" id={`${id}-error`}>
          {labelledMessage(label, error.message)}
        </p>
      )}
    </div>
  );
}

export function isForbidden(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && error.code === 'forbidden';
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  if (isForbidden(error)) {
    return (
      <div className="alert alert-denied" role="alert">
        <strong>You need administrator rights to see this page.</strong>
        <span>The portal refused the request and recorded it as Access.Denied.</span>
      </div>
    );
  }
  const message =
    error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div className="alert alert-error" role="alert">
      {message}
    </div>
  );
}

export function Saved({ text }: { text: string | null }) {
  return (
    <p className="saved" role="status">
      {text ?? ''}
    </p>
  );
}

/** Loads a GET once (and on reload()); the error is kept for ErrorAlert. */
export function useLoad<T>(path: string | null): {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (d: T) => void;
} {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const reload = useCallback(async () => {
    if (path === null) return;
    setLoading(true);
    try {
      setData(await api<T>('GET', path));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs a form's submit: prevents the page load, keeps the error and a busy flag. */
export function useSubmit<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const onSubmit =
    (...args: A) =>
    (e: SyntheticEvent) => {
      e.preventDefault();
      void run(...args);
    };
  return { busy, error, setError, run, onSubmit };
}

async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain HTTP on a LAN name: no async clipboard API; copy through a hidden, selected textarea.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 2500);
    return () => window.clearTimeout(t);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="btn btn-secondary btn-small"
        onClick={() =>
          writeClipboard(text).then(
            () => setState('copied'),
            () => setState('failed'),
          )
        }
      >
        {label}
      </button>
      <span className="copy-state" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text and copy it' : ''}
      </span>
    </>
  );
}

export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
  error,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: unknown;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = `d${useId().replace(/:/g, '')}`;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      cancelRef.current?.focus();
    } else if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{body}</div>
      <ErrorAlert error={error} />
      <div className="dialog-actions">
        <button ref={cancelRef} type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The browser's zone as people read it at that instant: "UTC", "CET", "GMT+5:30". */
export function zoneName(d: Date = new Date()): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'local time';
}

/** The browser's IANA zone (Europe/Berlin), for hints. */
export const zoneId = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local';

/**
 * Every time on screen: local, 24-hour, with its zone: `2026-12-07 17:05:03 UTC`. The filters take
 * the same form (parseLocalDateTime), so what is read in the table can be typed in a filter.
 */
export function formatDateTime(d: Date, seconds = true): string {
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time} ${zoneName(d)}`;
}

/** `YYYY-MM-DD HH:MM[:SS]` (24-hour, or with a T), in the browser's zone → the instant; null if not one. */
export function parseLocalDateTime(value: string): Date | null {
  const m = /^\s*(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?\s*$/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) return null;
  const date = new Date(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(date.getTime()) || date.getDate() !== d ? null : date;
}

/** Local time, 24-hour, to the second, with its zone; the ISO instant on hover. */
export function Time({ iso, empty = '—' }: { iso: string | null | undefined; empty?: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {formatDateTime(d)}
    </time>
  );
}

export function Badge({ tone, children }: { tone: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
