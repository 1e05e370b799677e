/**
 * The one way the UI talks to the server: same-origin JSON, the session cookie, and the session's
 * CSRF token as X-CSRF-Token on every state-changing request. A 401 on any call but sign-in means the
 * session is gone: the app is told, and shows the sign-in page.
 */
import type { EventEnvelope } from '../modules/feed/feed-schema.ts';
import type { PollRecordView, PollTotalsView, RefusalView } from '../modules/siem-keys/siem-key-service.ts';

export interface Me {
  id: number;
  username: string;
  role: 'admin' | 'member';
  tenantId: number;
  csrfToken: string;
}

/** An error answered by the API: `{Error, Message}`; Message names the bad field. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onUnauthenticated(handler: () => void): void {
  onSignedOut = handler;
}

const SIGNED_IN_HINT = 'itp.signedIn';

/**
 * A non-secret hint that this browser holds a session cookie (which is HttpOnly, so unreadable):
 * without it the app shows sign-in at once instead of asking /api/me for a certain 401.
 */
export const signedInHint = {
  get: () => window.localStorage.getItem(SIGNED_IN_HINT) === '1',
  set: (on: boolean) =>
    on ? window.localStorage.setItem(SIGNED_IN_HINT, '1') : window.localStorage.removeItem(SIGNED_IN_HINT),
};

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The portal cannot be reached; check your connection.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed ?? {}) as { Error?: string; Message?: string };
    const error = new ApiError(
      res.status,
      err.Error ?? 'http_error',
      err.Message ?? `The server answered ${res.status} ${res.statusText}.`,
    );
    if (res.status === 401 && path !== '/api/auth/login') {
      signedInHint.set(false);
      onSignedOut?.();
    }
    throw error;
  }
  return parsed as T;
}

/** Query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `?${s}` : '';
}

// ---- The API's shapes, as the UI uses them (docs/api.md).

export interface SiemKey {
  id: string;
  keyPrefix: string;
  description: string;
  allowedCidrs: string;
  status: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedFrom: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  deliveredThroughSeq: number | null;
  deliveredAt: string | null;
  lagEvents: number | null;
  lagSeconds: number | null;
}

export interface LogView {
  Size: number;
  RootHash: string;
  LatestEventAt: string | null;
  Checkpoint: string;
}

/** GET /api/admin/siem/log: both logs' heads and the verifier key. */
export interface SiemLog {
  VerifierKey: string;
  Trail: LogView;
  Polls: LogView;
}

export interface IssuedKey extends SiemKey {
  key: string;
}

export type PollRecord = PollRecordView;

export type PollTotals = PollTotalsView;

export type Refusal = RefusalView;

/** The envelope of SPEC §2, as the server derives it from its schema (one type, not a copy). */
export type AuditEvent = EventEnvelope;

export interface AuditPage {
  Events: AuditEvent[];
  NextPage: string | null;
}

export interface User {
  id: number;
  username: string;
  role: 'admin' | 'member';
  totpEnabled: boolean;
  lockedUntil: string | null;
  createdAt: string;
}

export interface Company {
  id: number;
  name: string;
  createdAt: string;
}

export interface DocumentSummary {
  id: number;
  companyId: number;
  title: string;
  createdAt: string;
}

export interface DocumentFull extends DocumentSummary {
  body: string;
}

export interface Credential {
  id: number;
  companyId: number;
  name: string;
  username: string;
  url: string | null;
  createdAt: string;
}

export interface RevealedCredential extends Credential {
  password: string;
}

export type AccessLevel = 'none' | 'read' | 'write';
export interface Acl {
  member: { companies: AccessLevel; documents: AccessLevel; passwords: AccessLevel };
}
export interface PasswordPolicy {
  minLength: number;
  lockoutThreshold: number;
  lockoutMinutes: number;
}
export interface MfaSetting {
  mode: 'optional' | 'required';
}
export interface IpAccess {
  allow: string[];
  block: string[];
}
