/**
 * One feed poll and its retries. Transient answers (429, 503, other 5xx, a network error or timeout)
 * are retried with jittered exponential backoff, never sooner than the server's `Retry-After`;
 * answers that no retry can fix (401, 400, other 4xx) end the run with a message saying what to check.
 */

export interface FeedPage {
  Events: unknown[];
  NextCursor: string;
  HasMore: boolean;
  /** The log's signed checkpoint covering the page (SPEC §8); absent from servers before it. */
  Checkpoint?: string;
}

export interface PageRequest {
  /** The feed URL, `…/api/siem/events`. */
  url: string;
  key: string;
  cursor: string | null;
  since: string | null;
  limit: number | null;
  eventType: string | null;
  /** The wire format; json (the default) is not sent. */
  format?: string;
  userAgent: string;
  timeoutMs: number;
}

/** The server refused in a way no retry can fix. */
export class FeedRefusedError extends Error {
  override name = 'FeedRefusedError';
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** A transient failure, with the server's Retry-After when it gave one. */
export class FeedTransientError extends Error {
  override name = 'FeedTransientError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }
}

export function feedUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('--url must be http(s)://…');
  if (url.search || url.hash)
    throw new Error('--url takes no query string: use --since, --limit, --event-type');
  const pathname = url.pathname.replace(/\/+$/, '');
  url.pathname = pathname.endsWith('/api/siem/events') ? pathname : `${pathname}/api/siem/events`;
  return url.toString();
}

export function buildPageUrl(req: PageRequest): string {
  const url = new URL(req.url);
  // cursor takes precedence on the server too; sending only one keeps the poll history readable.
  if (req.cursor) url.searchParams.set('cursor', req.cursor);
  else if (req.since) url.searchParams.set('since', req.since);
  if (req.limit !== null) url.searchParams.set('limit', String(req.limit));
  if (req.eventType) url.searchParams.set('eventType', req.eventType);
  if (req.format && req.format !== 'json') url.searchParams.set('format', req.format);
  return url.toString();
}

const UNAUTHORIZED_HELP =
  'the server answers 401 alike for every cause, by design. Check, in this order: the key file holds the ' +
  'whole key (itp_siem_<id>_<secret>) as shown once at issue; the key is not revoked (Admin Settings → ' +
  'Integrations → SIEM); this host’s address is inside the key’s Allowed CIDRs (as the portal sees it: ' +
  'behind a proxy, the proxy must be in TRUSTED_PROXIES); --url is the host name of the key’s own portal. ' +
  'Refusals that name a real key appear as Access.Denied events with Target.Type SiemKey. See docs/troubleshooting.md.';

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  if (/^[0-9]+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export async function fetchPage(req: PageRequest): Promise<FeedPage> {
  let res: Response;
  try {
    res = await fetch(buildPageUrl(req), {
      headers: {
        authorization: `ApiKey ${req.key}`,
        accept: 'application/json',
        'accept-encoding': 'gzip',
        'user-agent': req.userAgent,
      },
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new FeedTransientError(`request failed: ${cause ?? (err as Error).message}`, null);
  }
  const text = await res.text().catch(() => '');
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const code = typeof body?.Error === 'string' ? (body.Error as string) : null;
  const message = typeof body?.Message === 'string' ? (body.Message as string) : text.slice(0, 200);
  if (res.status === 200) {
    if (
      !body ||
      !Array.isArray(body.Events) ||
      typeof body.NextCursor !== 'string' ||
      typeof body.HasMore !== 'boolean'
    ) {
      throw new FeedRefusedError(
        200,
        null,
        'the answer is not an IT Portal feed page ({Events, NextCursor, HasMore}): check --url',
      );
    }
    return body as FeedPage;
  }
  if (res.status === 429 || res.status >= 500) {
    throw new FeedTransientError(
      `${res.status} ${code ?? ''}: ${message}`.replace('  ', ' '),
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }
  if (res.status === 401) throw new FeedRefusedError(401, code, `401 unauthorized: ${UNAUTHORIZED_HELP}`);
  if (res.status === 400 && code === 'invalid_cursor') {
    throw new FeedRefusedError(400, code, `400 invalid_cursor: ${message}`);
  }
  if (res.status === 404) {
    throw new FeedRefusedError(404, code, `404: there is no IT Portal feed at ${req.url}; check --url`);
  }
  throw new FeedRefusedError(res.status, code, `${res.status} ${code ?? ''}: ${message}`);
}

export interface RetryOptions {
  /** Attempts after the first; Infinity to keep trying. */
  maxRetries: number;
  onRetry(info: { attempt: number; delayMs: number; error: FeedTransientError }): void;
  sleep(ms: number): Promise<void>;
  random?: () => number;
}

/** Backoff for attempt n (1-based): 1 s, 2 s, 4 s … capped at 5 min, plus up to 50 % jitter; never before Retry-After. */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds: number | null,
  random = Math.random,
): number {
  const backoff = Math.min(300_000, 1000 * 2 ** Math.min(attempt - 1, 20));
  const floor = retryAfterSeconds === null ? 0 : retryAfterSeconds * 1000;
  const base = Math.max(backoff, floor);
  return Math.round(base + base * 0.5 * random());
}

export async function fetchPageWithRetry(req: PageRequest, options: RetryOptions): Promise<FeedPage> {
  return withRetry(() => fetchPage(req), options);
}

/** Runs `attempt` again after a transient failure (429, 5xx, network), as a page poll is. */
export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof FeedTransientError) || attempt > options.maxRetries) throw err;
      const delayMs = retryDelayMs(attempt, err.retryAfterSeconds, options.random);
      options.onRetry({ attempt, delayMs, error: err });
      await options.sleep(delayMs);
    }
  }
}

/**
 * GET one of the log's routes (`/api/siem/log/...`) beside the feed URL with the SIEM key: its status
 * and JSON body; a network failure, a 429 or a 5xx is a FeedTransientError (retried like a poll).
 */
async function getLogRoute(
  req: { url: string; key: string; userAgent: string; timeoutMs: number },
  route: string,
  params: Record<string, string>,
  what: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const url = new URL(req.url);
  url.pathname = url.pathname.replace(/\/api\/siem\/events$/, route);
  url.search = new URLSearchParams(params).toString();
  let res: Response;
  try {
    res = await fetch(url, {
      headers: {
        authorization: `ApiKey ${req.key}`,
        accept: 'application/json',
        'user-agent': req.userAgent,
      },
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new FeedTransientError(`request failed: ${cause ?? (err as Error).message}`, null);
  }
  if (res.status === 429 || res.status >= 500) {
    throw new FeedTransientError(`${what}: ${res.status}`, parseRetryAfter(res.headers.get('retry-after')));
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  return { status: res.status, body };
}

/**
 * The left frontier of the log at Seq `seq` (the roots of the perfect subtrees covering Seq 0..seq−1,
 * largest first), for `itportal verify` of a pull that starts there (`--since`): the audit path of the
 * entry at `seq` in the tree of `seq + 1` entries is exactly those roots (RFC 9162 §2.1.3.1, the last
 * leaf's path), smallest first. Not trusted as given: verify accepts it only when the roots it
 * computes from it and the records match signed checkpoints.
 */
export async function fetchFrontier(req: {
  url: string;
  key: string;
  seq: number;
  userAgent: string;
  timeoutMs: number;
}): Promise<{ Size: number; Hashes: string[] }> {
  const { status, body } = await getLogRoute(
    req,
    '/api/siem/log/proof/inclusion',
    { seq: String(req.seq), size: String(req.seq + 1) },
    'the log frontier',
  );
  const proof = body?.Proof;
  if (status !== 200 || !Array.isArray(proof) || !proof.every((h) => typeof h === 'string')) {
    throw new Error(`the inclusion proof of Seq ${req.seq} was not given (HTTP ${status})`);
  }
  return { Size: req.seq, Hashes: [...(proof as string[])].reverse() };
}

export interface InclusionProofs {
  Size: number;
  Proofs: Array<{ Seq: number; Proof: string[] }>;
}

/**
 * The inclusion proofs of a filtered page's entries in the tree its checkpoint signs (`size`), 500
 * Seqs a request (GET /api/siem/log/proof/inclusions): what `itportal verify` checks a filtered
 * pull's records with (inclusion and integrity; a filter leaves gaps by design).
 */
export async function fetchInclusions(req: {
  url: string;
  key: string;
  seqs: number[];
  size: number;
  log: 'trail' | 'polls';
  userAgent: string;
  timeoutMs: number;
}): Promise<InclusionProofs> {
  const { status, body } = await getLogRoute(
    req,
    '/api/siem/log/proof/inclusions',
    {
      seqs: req.seqs.join(','),
      size: String(req.size),
      ...(req.log !== 'trail' ? { log: req.log } : {}),
    },
    'inclusion proofs',
  );
  if (status !== 200 || !Array.isArray(body?.Proofs)) {
    throw new FeedRefusedError(
      status,
      null,
      `inclusion proofs: ${status} ${typeof body?.Message === 'string' ? body.Message : ''}`.trim(),
    );
  }
  return {
    Size: req.size,
    Proofs: (body.Proofs as Array<{ Seq: number; Proof: string[] }>).map((p) => ({
      Seq: p.Seq,
      Proof: p.Proof,
    })),
  };
}
