/**
 * SIEM keys: issuing, listing, revoking, and authenticating a poll. Every change is a PolicyChange
 * (Target.Type SiemKey, critical) in the same transaction. A key is looked up by tenant and id on
 * every request, so a revocation holds on the next request on every node.
 */
import type { Static } from '@fastify/type-provider-typebox';
import type { PollRecordSchema, PollTotalsSchema, RefusalSchema } from './siem-key-schema.js';
import type { Kysely, QueryCreator, Transaction } from 'kysely';
import type { DialectAdapter } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { ipInCidrs, parseCidrs } from '../../http/ip.js';
import { appendEvent, eventInsert, type Actor } from '../audit/audit-store.js';
import type { StoredEvent } from '../feed/feed-store.js';
import { generateSiemKey, parseSiemKey, secretMatches, SIEM_KEY_PREFIX } from './siem-key-format.js';
import { summaryDetails, type RefusalAdmission, type RefusalThrottle } from '../audit/refusal-throttle.js';
import { markUsedQuery, type SiemKeyRow, type SiemKeyStore } from './siem-key-store.js';

export interface Clock {
  now(): number;
}

export interface SiemKeyView {
  id: string;
  keyPrefix: string;
  description: string;
  allowedCidrs: string;
  status: 'active' | 'revoked';
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedFrom: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  /** The last Seq of the trail delivered to this key (null: none yet), and when it was delivered. */
  deliveredThroughSeq: number | null;
  deliveredAt: string | null;
  /** Events of the trail the key has not read yet, and the time from its last delivered event to the newest event. */
  lagEvents: number | null;
  lagSeconds: number | null;
}

/** The trail's head and its events' times, for a key's lag (modules/log/log-store.ts). */
export interface TrailReader {
  head(tenantId: number): Promise<{ size: number; latestAt: number | null }>;
  timeOf(tenantId: number, seq: number): Promise<number | null>;
}

/** A poll record as the admin API answers it (the route's schema is the one definition). */
export type PollRecordView = Static<typeof PollRecordSchema>;

/** A key's use of the feed over all its poll records (the route's schema is the one definition). */
export type PollTotalsView = Static<typeof PollTotalsSchema>;

export type RefusalView = Static<typeof RefusalSchema>;

/**
 * Disjoint, sorted Seq intervals [from, to]: add one and learn how much of it was covered already.
 * Polls mostly continue where the last ended, so the list stays short (one interval per gap).
 */
export class SeqCoverage {
  private readonly spans: [number, number][] = [];

  /** Adds [from, to] and returns how many of its Seqs were already covered. */
  add(from: number, to: number): number {
    let covered = 0;
    let lo = from;
    let hi = to;
    const kept: [number, number][] = [];
    for (const [a, b] of this.spans) {
      if (b < from - 1 || a > to + 1) {
        kept.push([a, b]);
        continue;
      }
      covered += Math.max(0, Math.min(b, to) - Math.max(a, from) + 1);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
    kept.push([lo, hi]);
    kept.sort((x, y) => x[0] - y[0]);
    this.spans.length = 0;
    this.spans.push(...kept);
    return covered;
  }
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function presentKey(row: SiemKeyRow): SiemKeyView {
  return {
    id: row.id,
    keyPrefix: `${SIEM_KEY_PREFIX}${row.id}_`,
    description: row.description,
    allowedCidrs: row.allowed_cidrs,
    status: row.revoked_at === null ? 'active' : 'revoked',
    createdBy: row.created_by_username,
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: iso(row.last_used_at),
    lastUsedFrom: row.last_used_from,
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by_username,
    deliveredThroughSeq:
      row.delivered_next_seq === null || Number(row.delivered_next_seq) === 0
        ? null
        : Number(row.delivered_next_seq) - 1,
    deliveredAt: iso(row.delivered_at === null ? null : Number(row.delivered_at)),
    lagEvents: null,
    lagSeconds: null,
  };
}

function detailsOf(raw: string | null): Record<string, unknown> {
  try {
    const d: unknown = JSON.parse(raw ?? '{}');
    return d && typeof d === 'object' ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const seqOf = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

function presentPoll(e: StoredEvent): PollRecordView {
  const d = detailsOf(e.details);
  return {
    id: `LogsSiemPoll:${e.id}`,
    at: new Date(e.createdAt).toISOString(),
    ip: e.ip,
    userAgent: e.userAgent,
    eventCount: Number(d.eventCount ?? 0),
    durationMs: Number(d.durationMs ?? 0),
    hasMore: d.hasMore === true,
    filter: typeof d.filter === 'string' ? d.filter : null,
    format: typeof d.format === 'string' ? d.format : null,
    cursorIn: typeof d.cursorIn === 'string' ? d.cursorIn : null,
    cursorOut: typeof d.cursorOut === 'string' ? d.cursorOut : null,
    log: typeof d.log === 'string' ? d.log : null,
    firstSeq: seqOf(d.firstSeq),
    lastSeq: seqOf(d.lastSeq),
  };
}

function presentRefusal(e: StoredEvent): RefusalView {
  const d = detailsOf(e.details);
  return {
    id: `LogsDenied:${e.id}`,
    at: new Date(e.createdAt).toISOString(),
    ip: e.ip,
    userAgent: e.userAgent,
    reason: typeof d.reason === 'string' ? d.reason : null,
    suppressed: typeof d.suppressed === 'number' ? d.suppressed : 0,
  };
}

export const UNAUTHORIZED_MESSAGE =
  'A valid SIEM API key is required: send "Authorization: ApiKey <key>" with an active key of this portal, from an allowed address.';

export function unauthorized(): AppError {
  return new AppError('unauthorized', UNAUTHORIZED_MESSAGE, { 'WWW-Authenticate': 'ApiKey' });
}

export interface PollRecord {
  key: SiemKeyRow;
  ip: string;
  userAgent: string | null;
  eventCount: number;
  durationMs: number;
  hasMore: boolean;
  filter: string | null;
  /** The wire format asked for (SPEC §9). */
  format: string;
  limit: number;
  cursorIn: string | null;
  cursorOut: string;
  since: string | null;
  /** The log read, the Seqs of the first and last event delivered, and the cursor's next Seq. */
  log: string;
  firstSeq: number | null;
  lastSeq: number | null;
  nextSeq: number;
}

/** Wrong secrets per key per minute (all addresses, all nodes) before further ones get a 429. */
export const GUESSES_PER_MINUTE = 10;

export function createSiemKeyService({
  db,
  dialect,
  store,
  clock,
  refusals,
  trail,
}: {
  db: Kysely<DB>;
  /** Whether a poll's record and the key's last use can be one statement. */
  dialect: Pick<DialectAdapter, 'dataModifyingCte'>;
  store: SiemKeyStore;
  clock: Clock;
  /** When given, listed keys carry their lag behind the trail's head. */
  trail?: TrailReader;
  /** Throttles refusal records (and counts wrong secrets per key). */
  refusals: RefusalThrottle;
}) {
  /** Issuing or revoking a key: a critical PolicyChange / SiemKey with the key's state before and after. */
  async function recordKeyChange(
    trx: Transaction<DB>,
    tenantId: number,
    actor: Actor,
    key: Pick<SiemKeyRow, 'id' | 'description' | 'allowed_cidrs'>,
    action: string,
    before: 'active' | null,
    after: 'active' | 'revoked',
    now: number,
  ) {
    const snapshot = (status: string) => ({
      id: key.id,
      description: key.description,
      allowedCidrs: key.allowed_cidrs,
      status,
    });
    await appendEvent(
      trx,
      tenantId,
      {
        eventType: 'PolicyChange',
        outcome: 'success',
        severity: 'critical',
        actor,
        target: { type: 'SiemKey', id: key.id, name: key.description },
        details: { action, before: before === null ? null : snapshot(before), after: snapshot(after) },
      },
      now,
    );
  }

  async function issueSiemKey(input: {
    tenantId: number;
    actor: Actor;
    description: string;
    allowedCidrs: string | readonly string[];
  }): Promise<SiemKeyView & { key: string }> {
    const description = input.description.trim();
    if (description === '' || description.length > 200) {
      throw new AppError('invalid_request', 'description: required, 1 to 200 characters');
    }
    const cidrs = parseCidrs(input.allowedCidrs, 'allowedCidrs');
    const generated = generateSiemKey();
    const now = clock.now();
    const row: SiemKeyRow = {
      id: generated.id,
      tenant_id: input.tenantId,
      description,
      allowed_cidrs: cidrs.join(', '),
      secret_hash: generated.secretHash,
      created_by_user_id: input.actor.userId,
      created_by_username: input.actor.username,
      created_at: now,
      last_used_at: null,
      last_used_from: null,
      revoked_at: null,
      revoked_by_username: null,
      delivered_next_seq: null,
      delivered_at: null,
    };
    await db.transaction().execute(async (trx) => {
      await store.insert(trx, row);
      await recordKeyChange(trx, input.tenantId, input.actor, row, 'siem_key.issued', null, 'active', now);
    });
    return { ...presentKey(row), key: generated.plaintext };
  }

  async function revokeSiemKey(input: { tenantId: number; actor: Actor; id: string }): Promise<SiemKeyView> {
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      const key = await store.find(input.tenantId, input.id, trx);
      if (!key) throw new AppError('not_found', `siem key ${input.id.slice(0, 64)} not found`);
      if (await store.revoke(trx, input.tenantId, input.id, now, input.actor.username)) {
        await recordKeyChange(
          trx,
          input.tenantId,
          input.actor,
          key,
          'siem_key.revoked',
          'active',
          'revoked',
          now,
        );
      }
      const after = await store.find(input.tenantId, input.id, trx);
      return presentKey(after!);
    });
  }

  async function listSiemKeys(tenantId: number): Promise<SiemKeyView[]> {
    const keys = (await store.list(tenantId)).map(presentKey);
    if (!trail) return keys;
    const head = await trail.head(tenantId);
    for (const k of keys) {
      const next = k.deliveredThroughSeq === null ? 0 : k.deliveredThroughSeq + 1;
      k.lagEvents = Math.max(0, head.size - next);
      if (k.deliveredThroughSeq === null) continue;
      const at = await trail.timeOf(tenantId, k.deliveredThroughSeq);
      k.lagSeconds =
        k.lagEvents === 0 || at === null || head.latestAt === null
          ? 0
          : Math.max(0, Math.round((head.latestAt - at) / 1000));
    }
    return keys;
  }

  async function findKey(tenantId: number, id: string): Promise<SiemKeyRow> {
    const key = await store.find(tenantId, id);
    if (!key) throw new AppError('not_found', `siem key ${id.slice(0, 64)} not found`);
    return key;
  }

  /** A key's poll records, newest first; `before` (a poll's numeric id) continues a page. */
  async function listPolls(
    tenantId: number,
    id: string,
    limit: number,
    before?: number,
  ): Promise<PollRecordView[]> {
    await findKey(tenantId, id);
    return (await store.listPolls(tenantId, id, limit, before)).map(presentPoll);
  }

  /** Totals over every poll record of the key, read in batches oldest first (SeqCoverage per log). */
  async function pollTotals(tenantId: number, id: string): Promise<PollTotalsView> {
    await findKey(tenantId, id);
    const coverage = new Map<string, SeqCoverage>();
    const totals = { polls: 0, eventsDelivered: 0, reReadEvents: 0 };
    let first: number | null = null;
    let last: number | null = null;
    const BATCH = 5000;
    for (let after = 0; ;) {
      const rows = await store.pollDetailsAfter(tenantId, id, after, BATCH);
      for (const row of rows) {
        const d = detailsOf(row.details);
        const count = Math.max(0, Number(d.eventCount ?? 0) || 0);
        totals.polls += 1;
        totals.eventsDelivered += count;
        first ??= row.created_at;
        last = row.created_at;
        const from = seqOf(d.firstSeq);
        const to = seqOf(d.lastSeq);
        if (from === null || to === null || to < from || count === 0) continue;
        const log = typeof d.log === 'string' ? d.log : 'trail';
        let seen = coverage.get(log);
        if (!seen) coverage.set(log, (seen = new SeqCoverage()));
        totals.reReadEvents += Math.min(count, seen.add(from, to));
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1]!.id;
    }
    return {
      ...totals,
      uniqueEvents: totals.eventsDelivered - totals.reReadEvents,
      firstPollAt: iso(first),
      lastPollAt: iso(last),
    };
  }

  /** Refusals (Access.Denied) naming the key: bad secret, revoked, disallowed address; newest first. */
  async function listRefusals(tenantId: number, id: string, limit: number): Promise<RefusalView[]> {
    await findKey(tenantId, id);
    return (await store.listRefusals(tenantId, id, limit)).map(presentRefusal);
  }

  async function recordRefusal(
    tenantId: number,
    key: SiemKeyRow,
    reason: string,
    ip: string,
    userAgent: string | null,
  ): Promise<RefusalAdmission> {
    const now = clock.now();
    // Per key and reason, across addresses and nodes (refusal-throttle.ts): a flood of bad secrets from
    // many addresses cannot flood the log, nor hide the one refusal that matters (a valid secret from a
    // disallowed address is another reason, so another bucket).
    const admission = await refusals.admit(tenantId, `siem-denied:${key.id}:${reason}`, now);
    if (!admission.record) return admission;
    await db.transaction().execute(async (trx) => {
      await appendEvent(
        trx,
        tenantId,
        {
          eventType: 'Access.Denied',
          outcome: 'denied',
          actor: { userId: null, username: null, clientId: key.id, ip, userAgent },
          target: { type: 'SiemKey', id: key.id, name: key.description },
          details: {
            reason,
            route: '/api/siem/events',
            ...summaryDetails(admission),
          },
        },
        now,
      );
    });
    return admission;
  }

  /**
   * The key behind an `Authorization` header, or a 401 with one body for every cause. Refusals that
   * name a real key of this tenant (bad secret, revoked, disallowed address) are recorded, throttled.
   * Wrong secrets for one key are throttled too: past GUESSES_PER_MINUTE in a minute (all addresses,
   * all nodes), the answer is a 429 with Retry-After. The key's real holder is never throttled by
   * them: a right secret is checked first and never counts.
   * Returns the reason too, for metrics.
   */
  async function authenticatePoll(input: {
    tenantId: number;
    authorization: string | undefined;
    ip: string;
    userAgent: string | null;
  }): Promise<{ key: SiemKeyRow } | { refused: string; retryAfterSeconds?: number }> {
    // The one scheme is ApiKey, in any case (RFC 9110 §11.1: scheme names are case-insensitive); a
    // Bearer header is refused like any other wrong header, so docs and code say the same thing.
    const match = /^ApiKey +(\S+) *$/i.exec(input.authorization ?? '');
    const parsed = match ? parseSiemKey(match[1]!) : null;
    if (!parsed) return { refused: input.authorization ? 'malformed_key' : 'missing_key' };
    const key = await store.find(input.tenantId, parsed.id);
    if (!key) return { refused: 'unknown_key' };
    let reason: string | null = null;
    if (!secretMatches(parsed.secret, key.secret_hash)) reason = 'bad_secret';
    else if (key.revoked_at !== null) reason = 'revoked';
    else if (key.allowed_cidrs !== '' && !ipInCidrs(input.ip, key.allowed_cidrs.split(', '))) {
      reason = 'address_not_allowed';
    }
    if (reason) {
      const admission = await recordRefusal(input.tenantId, key, reason, input.ip, input.userAgent);
      if (reason === 'bad_secret' && admission.count > GUESSES_PER_MINUTE) {
        return { refused: 'guess_throttled', retryAfterSeconds: admission.retryAfterSeconds };
      }
      return { refused: reason };
    }
    return { key };
  }

  /**
   * The audit of the audit: one record per successful poll, with the key's last use, atomically. On
   * PostgreSQL one statement (the key's update as a data-modifying CTE of the record's insert): one
   * round trip on every poll instead of begin, update, insert, commit.
   */
  async function recordPoll(tenantId: number, poll: PollRecord): Promise<void> {
    const now = clock.now();
    const used = (qc: QueryCreator<DB>) =>
      markUsedQuery(qc, tenantId, poll.key.id, now, poll.ip, poll.log === 'trail' ? poll.nextSeq : null);
    const record = (qc: QueryCreator<DB>) =>
      eventInsert(
        qc,
        tenantId,
        {
          eventType: 'Audit.SiemPoll',
          outcome: 'success',
          actor: {
            userId: null,
            username: null,
            clientId: poll.key.id,
            ip: poll.ip,
            userAgent: poll.userAgent,
          },
          target: { type: 'SiemFeed', id: poll.key.id, name: poll.key.description },
          details: {
            siemKeyId: poll.key.id,
            eventCount: poll.eventCount,
            durationMs: poll.durationMs,
            hasMore: poll.hasMore,
            filter: poll.filter,
            format: poll.format,
            limit: poll.limit,
            since: poll.since,
            cursorIn: poll.cursorIn,
            cursorOut: poll.cursorOut,
            log: poll.log,
            firstSeq: poll.firstSeq,
            lastSeq: poll.lastSeq,
            nextSeq: poll.nextSeq,
          },
        },
        now,
      );
    if (dialect.dataModifyingCte) {
      // The CTE only adds a name (`used`) that the insert never reads: the insert is DB's own.
      const withUsed = db.with('used', (qc) => used(qc).returning('id')) as unknown as QueryCreator<DB>;
      await record(withUsed).execute();
      return;
    }
    await db.transaction().execute(async (trx) => {
      await used(trx).execute();
      await record(trx).execute();
    });
  }

  return {
    issueSiemKey,
    revokeSiemKey,
    listSiemKeys,
    listPolls,
    pollTotals,
    listRefusals,
    authenticatePoll,
    recordPoll,
  };
}

export type SiemKeyService = ReturnType<typeof createSiemKeyService>;
