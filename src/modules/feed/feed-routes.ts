/**
 * GET /api/siem/events: authenticate the key (401 for every cause, one body), rate-limit it (429),
 * validate parameters (400), read a page (or take the one read ahead for it, feed-read-ahead.ts), write
 * the poll record, answer. A poll whose record cannot be written fails: no audit data leaves without its
 * trace.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { ErrorBody } from '../auth/auth-schema.js';
import { siemKeyGuard } from '../siem-keys/siem-key-guard.js';
import { decodeCursor, encodeCursor } from './feed-cursor.js';
import { parseEventTypes, parseFormat, parseSince } from './feed-params.js';
import { serializePage } from './feed-body.js';
import { acceptsGzip, type NextPage, type PreparedPage, type ReadPage } from './feed-read-ahead.js';
import { FeedQuery, FeedResponse } from './feed-schema.js';
import { MAX_LIMIT, logOfTypes, type FeedResume } from './feed-service.js';
import type { PresentContext } from './presenters/index.js';
import { PRODUCT_VERSION } from '../../version.js';

/**
 * The same promise, marked as handled now: its rejection still reaches whoever awaits it later, but
 * is never reported as unhandled in between.
 */
function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The `Server-Timing` header of a page (W3C Server Timing; browsers' and curl users' way to see where a
 * slow poll's time went), in milliseconds: `admit` (tenant, address lists, key, rate limit,
 * parameters), `read` (the page's read: the log's range, its checkpoint; with `desc="read-ahead"`, the
 * wait for a page prepared ahead), `body` (the page's bytes and gzip), `record` (the wait for the poll
 * record's commit once the body was ready). Durations only: nothing about the key or the data.
 */
function serverTiming(t: { admit: number; read: number; body: number; record: number; ahead: boolean }) {
  const ms = (n: number) => Math.max(0, n).toFixed(1);
  return [
    `admit;dur=${ms(t.admit)}`,
    `read;dur=${ms(t.read)}${t.ahead ? ';desc="read-ahead"' : ''}`,
    `body;dur=${ms(t.body)}`,
    `record;dur=${ms(t.record)}`,
  ].join(', ');
}

/** What a page tells before it is serialized: for the poll record and the read-ahead chain. */
type PageHead = Omit<PreparedPage, 'body'>;

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
        onRequest: siemKeyGuard(ctx),
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
        // Server-Timing (below): everything before the handler (tenant, address lists, key, rate limit,
        // parameters), then the page's read, its body, and the wait for its poll record.
        const admitMs = reply.elapsedTime;
        const key = request.siemKey!;
        const tenantId = request.tenantId;
        const { cursor: rawCursor, since: rawSince, limit = MAX_LIMIT, eventType, format } = request.query;
        const eventTypes = parseEventTypes(eventType);
        const presenter = parseFormat(format);
        const present: PresentContext = { tenantId, host: ctx.log.host, productVersion: PRODUCT_VERSION };
        const cursor: FeedResume = rawCursor
          ? decodeCursor(rawCursor, ctx.cursorKey, tenantId)
          : {
              v: 2,
              log: logOfTypes(eventTypes),
              next: 0,
              since: rawSince === undefined ? null : parseSince(rawSince),
            };
        const gzip = acceptsGzip(request.headers);
        const owner = `${tenantId}:${key.id}`;
        // What a prepared page must match besides the cursor (computed once per poll).
        const params = `${limit}|${[...eventTypes].sort().join(',')}|${presenter.format}|${gzip}`;
        const requestKey = (c: string) => `${c}|${params}`;
        const record = (page: PageHead) =>
          ctx.siemKeys.recordPoll(tenantId, {
            key,
            ip: request.clientIp,
            userAgent: request.headers['user-agent'] ?? null,
            eventCount: page.eventCount,
            durationMs: Math.round(performance.now() - started),
            hasMore: page.hasMore,
            filter: eventType ?? null,
            format: presenter.format,
            limit,
            since: rawCursor ? null : (rawSince ?? null),
            cursorIn: rawCursor ?? null,
            cursorOut: page.nextCursor,
            log: page.log,
            firstSeq: page.firstSeq,
            lastSeq: page.lastSeq,
            nextSeq: page.nextSeq,
          });

        const readPage: ReadPage<FeedResume> = async (from) => {
          const page = await ctx.feed.readFeedPage({
            tenantId,
            cursor: from,
            fresh: from === cursor && !rawCursor,
            limit,
            eventTypes,
          });
          const nextCursor = encodeCursor(page.next, ctx.cursorKey, tenantId);
          const head: PageHead = {
            eventCount: page.events.length,
            hasMore: page.hasMore,
            nextCursor,
            log: page.log,
            firstSeq: page.events[0]?.seq ?? null,
            lastSeq: page.events[page.events.length - 1]?.seq ?? null,
            nextSeq: page.next.next,
          };
          const checkpoint = ctx.log.note(tenantId, page.log, page.tree.size, page.tree.root);
          return {
            head,
            next: page.hasMore ? { cursor: page.next, request: requestKey(nextCursor) } : null,
            finish: async () => ({
              ...head,
              body: await serializePage(
                { events: page.events, nextCursor, hasMore: page.hasMore, checkpoint },
                presenter,
                present,
                gzip,
              ),
            }),
          };
        };

        // Every check above has passed: only now may a page read ahead for this key answer.
        const asked = rawCursor ? requestKey(rawCursor) : null;
        let prepared = asked ? await readAhead.take(owner, asked) : null;
        const taken = prepared !== null;
        let recorded: Promise<void>;
        let next: NextPage<FeedResume> | null = null;
        let readMs: number;
        let bodyMs = 0;
        if (prepared) {
          readMs = performance.now() - started;
          ctx.metrics.readAhead.inc({ outcome: 'served' });
          recorded = handledLater(record(prepared));
        } else {
          const read = await readPage(cursor);
          readMs = performance.now() - started;
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
          bodyMs = performance.now() - started - readMs;
        }
        const issued = prepared.hasMore ? requestKey(prepared.nextCursor) : null;
        const bodyReady = performance.now();
        await recorded;
        reply.header(
          'Server-Timing',
          serverTiming({
            admit: admitMs,
            read: readMs,
            body: bodyMs,
            record: performance.now() - bodyReady,
            ahead: taken,
          }),
        );
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
