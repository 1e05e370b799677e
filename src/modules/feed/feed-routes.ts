/**
 * GET /api/siem/events: authenticate the key (401 for every cause, one body), rate-limit it (429),
 * validate parameters (400), read a page (or take the one read ahead for it, feed-read-ahead.ts), write
 * the poll record, answer. A poll whose record cannot be written fails: no audit data leaves without its
 * trace.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { ErrorBody } from '../auth/auth-schema.js';
import type { SiemKeyRow } from '../siem-keys/siem-key-store.js';
import { unauthorized } from '../siem-keys/siem-key-service.js';
import { decodeCursor, encodeCursor, type FeedCursor } from './feed-cursor.js';
import { parseEventTypes, parseSince } from './feed-params.js';
import { presentEvent } from './feed-presenter.js';
import {
  acceptsGzip,
  type NextPage,
  type PreparedBody,
  type PreparedPage,
  type ReadPage,
} from './feed-read-ahead.js';
import { FeedQuery, FeedResponse } from './feed-schema.js';
import { MAX_LIMIT, type FeedResume } from './feed-service.js';
import type { StoredEvent } from './feed-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    siemKey: SiemKeyRow | null;
  }
}

const gzipAsync = promisify(zlib.gzip);

/**
 * The same promise, marked as handled now: its rejection still reaches whoever awaits it later, but
 * is never reported as unhandled in between.
 */
function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The page as it goes on the wire. JSON.stringify, not the schema's fast-json-stringify: with
 * free-form Details it is twice as fast on a 5,000-event page (docs/benchmarks.md); same bytes the
 * schema describes. gzip level 1 (a tenth of the size at a fifth of level 6's CPU), on libuv's pool.
 */
async function serializePage(
  events: StoredEvent[],
  nextCursor: string,
  hasMore: boolean,
  gzip: boolean,
): Promise<PreparedBody> {
  const json = JSON.stringify({ Events: events.map(presentEvent), NextCursor: nextCursor, HasMore: hasMore });
  if (!gzip || json.length < 1024) return { payload: json, gzip: false };
  return { payload: await gzipAsync(json, { level: 1 }), gzip: true };
}

export function feedRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const readAhead = ctx.feedReadAhead;
    app.decorateRequest('siemKey', null);
    app.get(
      '/api/siem/events',
      {
        // No HEAD twin: a HEAD would take a page (and be recorded as a poll) without sending it.
        exposeHeadRoute: false,
        schema: {
          tags: ['siem'],
          summary: 'The SIEM feed: normalized events after a cursor, exactly once',
          description:
            'Authenticate with `Authorization: ApiKey <key>`. Follow NextCursor; poll again at once while HasMore is true.',
          security: [{ ApiKey: [] }],
          querystring: FeedQuery,
          response: { 200: FeedResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
        },
        onRequest: async (request, reply) => {
          const result = await ctx.siemKeys.authenticatePoll({
            tenantId: request.tenantId,
            authorization: request.headers.authorization,
            ip: request.clientIp,
            userAgent: request.headers['user-agent'] ?? null,
          });
          if ('refused' in result) {
            // The public metric does not say which cause (that would be the oracle the one 401 body
            // avoids); the cause goes to the operator's log.
            request.log.info({ refusal: result.refused }, 'siem poll refused');
            if (result.retryAfterSeconds !== undefined) {
              ctx.metrics.refusals.inc({ reason: 'rate_limited' });
              throw new AppError(
                'rate_limited',
                `too many wrong secrets for this key in the last minute; retry after ${result.retryAfterSeconds} s (a right secret is never refused this way)`,
                { 'Retry-After': String(result.retryAfterSeconds) },
              );
            }
            ctx.metrics.refusals.inc({ reason: 'unauthorized' });
            throw unauthorized();
          }
          const decision = await ctx.rateLimiter.hit(
            request.tenantId,
            `siem:${result.key.id}`,
            ctx.clock.now(),
          );
          if (!decision.allowed) {
            ctx.metrics.refusals.inc({ reason: 'rate_limited' });
            reply.header('Retry-After', String(decision.retryAfterSeconds));
            throw new AppError(
              'rate_limited',
              `over the rate limit of ${ctx.config.siemRateLimitPerMinute} polls per minute for this key; retry after ${decision.retryAfterSeconds} s`,
              { 'Retry-After': String(decision.retryAfterSeconds) },
            );
          }
          request.siemKey = result.key;
        },
        // Every poll counted once, by outcome: success, or the code of the error it was answered with.
        onResponse: async (request, reply) => {
          ctx.metrics.polls.inc({
            outcome: reply.statusCode === 200 ? 'success' : (request.errorCode ?? 'internal_error'),
          });
        },
        preValidation: async (request) => {
          // The schema coerces text to integers; only plain decimal digits are a limit (not 0x10, 1e3, " 5").
          const raw = (request.query as Record<string, unknown>).limit;
          if (typeof raw === 'string' && !/^[0-9]{1,5}$/.test(raw)) {
            throw new AppError('invalid_limit', 'limit: must be an integer from 1 to 5000');
          }
        },
      },
      async (request, reply) => {
        const started = performance.now();
        const key = request.siemKey!;
        const tenantId = request.tenantId;
        const { cursor: rawCursor, since: rawSince, limit = MAX_LIMIT, eventType } = request.query;
        const cursor: FeedCursor = rawCursor
          ? decodeCursor(rawCursor, ctx.cursorKey, tenantId)
          : { since: rawSince === undefined ? null : parseSince(rawSince), positions: {} };
        const eventTypes = parseEventTypes(eventType);
        const gzip = acceptsGzip(request.headers);
        const owner = `${tenantId}:${key.id}`;
        // What a prepared page must match besides the cursor (computed once per poll).
        const params = `${limit}|${[...eventTypes].sort().join(',')}|${gzip}`;
        const requestKey = (c: string) => `${c}|${params}`;
        const record = (page: Pick<PreparedPage, 'eventCount' | 'hasMore' | 'nextCursor'>) =>
          ctx.siemKeys.recordPoll(tenantId, {
            key,
            ip: request.clientIp,
            userAgent: request.headers['user-agent'] ?? null,
            eventCount: page.eventCount,
            durationMs: Math.round(performance.now() - started),
            hasMore: page.hasMore,
            filter: eventType ?? null,
            limit,
            since: rawCursor ? null : (rawSince ?? null),
            cursorIn: rawCursor ?? null,
            cursorOut: page.nextCursor,
          });

        const readPage: ReadPage<FeedResume> = async (from) => {
          const page = await ctx.feed.readFeedPage({
            tenantId,
            cursor: from.cursor,
            ...(from.carry ? { carry: from.carry } : {}),
            limit,
            eventTypes,
          });
          const nextCursor = encodeCursor(page.next, ctx.cursorKey, tenantId);
          const head = { eventCount: page.events.length, hasMore: page.hasMore, nextCursor };
          return {
            head,
            next: page.hasMore
              ? { cursor: { cursor: page.next, carry: page.carry }, request: requestKey(nextCursor) }
              : null,
            finish: async () => ({
              ...head,
              body: await serializePage(page.events, nextCursor, page.hasMore, gzip),
            }),
          };
        };

        // Every check above has passed: only now may a page read ahead for this key answer.
        const asked = rawCursor ? requestKey(rawCursor) : null;
        let prepared = asked ? await readAhead.take(owner, asked) : null;
        const taken = prepared !== null;
        let recorded: Promise<void>;
        let next: NextPage<FeedResume> | null = null;
        if (prepared) {
          ctx.metrics.readAhead.inc({ outcome: 'served' });
          recorded = handledLater(record(prepared));
        } else {
          const read = await readPage({ cursor });
          next = read.next;
          // The poll record commits while the page is serialized; nothing is sent until it has. It may
          // fail (connection reset, failover) while gzip still runs: handledLater keeps that rejection
          // from being an unhandled one (which would end the process) until it is awaited below.
          recorded = handledLater(record(read.head));
          try {
            prepared = await read.finish();
          } catch (err) {
            await recorded.catch(() => undefined);
            throw err;
          }
        }
        const issued = prepared.hasMore ? requestKey(prepared.nextCursor) : null;
        await recorded;
        // Only after the poll is on record: a poll that fails does not move the chain.
        readAhead.follow(owner, { asked, issued, next, taken }, readPage);
        ctx.metrics.markKeyPolled(key.id, ctx.clock.now());
        ctx.metrics.eventsServed.inc(prepared.eventCount);
        ctx.metrics.pollLatency.observe((performance.now() - started) / 1000);
        reply.type('application/json; charset=utf-8');
        if (prepared.body.gzip) {
          // Compressed here (off the event loop); @fastify/compress passes an encoded body through.
          reply.header('Content-Encoding', 'gzip').header('Vary', 'Accept-Encoding');
        }
        // Fastify passes a string or Buffer payload through unserialized; the cast quiets the schema's type.
        return reply.send(prepared.body.payload as never);
      },
    );
  };
}
