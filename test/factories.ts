/** Shared factories and HTTP helpers: everything goes over real HTTP to a running server. */
import nodeHttp from 'node:http';
import { ADMIN, type TestServer } from './harness.js';

/**
 * CSRF tokens of the sessions the helpers opened, by cookie: the helpers send the right
 * X-CSRF-Token with every state-changing request made with a known cookie, as the web UI does.
 */
const csrfTokens = new Map<string, string>();

function rememberCsrf(setCookie: string | string[] | null | undefined, body: unknown) {
  const header = Array.isArray(setCookie) ? setCookie.join(',') : (setCookie ?? '');
  const pair = /itp_session=[^;]+/.exec(header)?.[0];
  const token = (body as { csrfToken?: unknown } | undefined)?.csrfToken;
  if (pair && typeof token === 'string') csrfTokens.set(pair, token);
}

function withCsrf(method: string, headers: Record<string, string>, cookie: string | undefined) {
  if (cookie && !['GET', 'HEAD'].includes(method) && !('x-csrf-token' in headers)) {
    const token = csrfTokens.get(cookie);
    if (token) headers['x-csrf-token'] = token;
  }
}

/** The keys of the SPEC §2 envelope, sorted: every event of the viewer has exactly these. */
export const ENVELOPE_KEYS = [
  'Id',
  'Timestamp',
  'EventType',
  'Category',
  'Severity',
  'Outcome',
  'SourceTable',
  'Actor',
  'Target',
  'Ip',
  'UserAgent',
  'Controls',
  'Details',
].sort();

/** A feed event's keys: the envelope and its Seq in the log (SPEC §2, §8). */
export const FEED_ENVELOPE_KEYS = [...ENVELOPE_KEYS, 'Seq'].sort();

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function http<T = any>(
  server: TestServer | string,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; cookie?: string } = {},
): Promise<HttpResult<T>> {
  const base = typeof server === 'string' ? server : server.url;
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  withCsrf(method, headers, options.cookie);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  rememberCsrf(res.headers.get('set-cookie'), parsed);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export async function login(
  server: TestServer | string,
  username = ADMIN.username,
  password = ADMIN.password,
) {
  const res = await http(server, 'POST', '/api/auth/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return setCookie.split(';')[0]!;
}

export async function buildUser(
  server: TestServer,
  role: 'admin' | 'member',
  username = `${role}-${Math.random().toString(36).slice(2, 8)}`,
) {
  const password = `pw-${username}-long-enough`;
  await server.ctx.users.createUser({
    tenantId: await server.ctx.tenants.defaultTenantId(Date.now()),
    username,
    password,
    role,
    actor: { userId: null, username: 'test', ip: null, userAgent: null },
  });
  return { username, password, cookie: await login(server, username, password) };
}

export async function buildKey(
  server: TestServer | string,
  cookie: string,
  body: { description?: string; allowedCidrs?: string } = {},
): Promise<{ id: string; key: string }> {
  const res = await http(server, 'POST', '/api/admin/siem/keys', {
    cookie,
    body: { description: body.description ?? 'test SIEM', allowedCidrs: body.allowedCidrs ?? '' },
  });
  if (res.status !== 201) throw new Error(`issue key failed: ${res.status} ${res.text}`);
  return res.body;
}

export interface FeedPage {
  Error?: string;
  Message?: string;
  Events: Array<Record<string, any>>;
  NextCursor: string;
  HasMore: boolean;
  Checkpoint: string;
}

export async function poll(
  server: TestServer | string,
  key: string,
  params: Record<string, string | number | undefined> = {},
  headers: Record<string, string> = {},
): Promise<HttpResult<FeedPage>> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const q = qs.toString();
  return http<FeedPage>(server, 'GET', `/api/siem/events${q ? `?${q}` : ''}`, {
    headers: { authorization: `ApiKey ${key}`, ...headers },
  });
}

/** Follows NextCursor until HasMore is false; returns every event and the last cursor. */
export async function drain(
  server: TestServer | string,
  key: string,
  params: Record<string, string | number | undefined> = {},
) {
  const events: Array<Record<string, any>> = [];
  let cursor: string | undefined = params.cursor as string | undefined;
  let first = true;
  for (let i = 0; i < 10_000; i++) {
    const res = await poll(server, key, first ? params : { ...params, since: undefined, cursor });
    if (res.status !== 200) throw new Error(`poll failed: ${res.status} ${res.text}`);
    first = false;
    events.push(...res.body.Events);
    cursor = res.body.NextCursor;
    if (!res.body.HasMore) return { events, cursor };
  }
  throw new Error('drain did not finish');
}

/** A request with headers fetch will not send as given (Host, X-Forwarded-For), over node:http. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}> {
  const method = options.method ?? 'GET';
  const headers = { ...options.headers };
  withCsrf(method, headers, headers.cookie);
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        rememberCsrf(res.headers['set-cookie'], body);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

/**
 * Waits, when less than `marginMs` is left of the current wall-clock minute, for the next one. Rate
 * limits and refusal summaries count in fixed wall-clock minutes: a burst that straddles a minute's end
 * splits across two windows (more records, a limit never met), which made such tests flaky in CI.
 */
export async function withinOneMinuteWindow(marginMs = 20_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
