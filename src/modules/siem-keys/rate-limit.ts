/**
 * Per-key poll rate limit, fixed one-minute windows, shared by every node: in the database by default,
 * in Redis when REDIS_URL is set. Never in a node's memory. Expired windows are purged (the database)
 * or expire (Redis), so buckets named after addresses cannot grow without bound.
 */
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Database } from '../../db/connect.js';
import { AppError } from '../../errors.js';

export interface RateDecision {
  allowed: boolean;
  /** Hits in the current window, this one included. */
  count: number;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  hit(tenantId: number, bucket: string, now: number): Promise<RateDecision>;
}

const WINDOW_MS = 60_000;

function decide(count: number, limit: number, windowStart: number, now: number): RateDecision {
  return {
    allowed: count <= limit,
    count,
    retryAfterSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)),
  };
}

export function createDbRateLimiter(
  { db, dialect }: Pick<Database, 'db' | 'dialect'>,
  limitPerMinute: number,
): RateLimiter {
  /** When this node last purged each tenant's expired windows. */
  const purgedAt = new Map<number, number>();
  return {
    async hit(tenantId, bucket, now) {
      const windowStart = now - (now % WINDOW_MS);
      // Buckets named by addresses or users come and go: expired windows are deleted, per tenant, at
      // most once a minute per node, so the table holds about one window's buckets.
      if (now - (purgedAt.get(tenantId) ?? -Infinity) >= WINDOW_MS) {
        purgedAt.set(tenantId, now);
        await db
          .deleteFrom('rate_limits')
          .where('tenant_id', '=', tenantId)
          .where('window_start', '<', windowStart - WINDOW_MS)
          .execute();
      }
      // A counter lost in a crash costs nothing, so its commit need not wait for a disk flush. One
      // statement on both stores: a new window resets the count, the same window increments it.
      const row = await db
        .insertInto('rate_limits')
        .columns(['tenant_id', 'bucket', 'window_start', 'count'])
        .expression(
          db
            .selectFrom(dialect.relaxedCommitRow().as('r'))
            .select([
              sql<number>`cast(${tenantId} as bigint)`.as('tenant_id'),
              sql<string>`cast(${bucket} as text)`.as('bucket'),
              sql<number>`cast(${windowStart} as bigint)`.as('window_start'),
              sql<number>`1`.as('count'),
            ])
            // SQLite reads `ON CONFLICT` after a SELECT without WHERE as a join's ON (its upsert docs).
            .where(sql<boolean>`1 = 1`),
        )
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'bucket']).doUpdateSet({
            count: sql<number>`case when rate_limits.window_start = ${windowStart} then rate_limits.count + 1 else 1 end`,
            window_start: windowStart,
          }),
        )
        .returning(['count'])
        .executeTakeFirstOrThrow();
      return decide(Number(row.count), limitPerMinute, windowStart, now);
    },
  };
}

export function createRedisRateLimiter(redis: Redis, limitPerMinute: number): RateLimiter {
  return {
    async hit(tenantId, bucket, now) {
      const windowStart = now - (now % WINDOW_MS);
      const key = `itportal:rate:${tenantId}:${bucket}:${windowStart}`;
      let count: number;
      try {
        const results = await redis
          .multi()
          .incr(key)
          .pexpire(key, WINDOW_MS * 2)
          .exec();
        count = Number(results?.[0]?.[1]);
        if (!Number.isFinite(count)) throw new Error('no count');
      } catch {
        throw new AppError('rate_limiter_unavailable', 'The rate limiter is unreachable; retry later.', {
          'Retry-After': '5',
        });
      }
      return decide(count, limitPerMinute, windowStart, now);
    },
  };
}
