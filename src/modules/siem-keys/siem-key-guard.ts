/**
 * The SIEM key check every SIEM route runs first (onRequest): the key authenticates (one 401 body for
 * every cause), then its rate limit (429). The refusal's cause goes to the operator's log, never to
 * the caller or the public metrics.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { declareGuard } from '../../http/openapi.js';
import type { SiemKeyRow } from './siem-key-store.js';
import { unauthorized } from './siem-key-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    siemKey: SiemKeyRow | null;
  }
}

export function siemKeyGuard(ctx: AppContext) {
  return declareGuard('siem-key', async (request: FastifyRequest, reply: FastifyReply) => {
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
    const decision = await ctx.rateLimiter.hit(request.tenantId, `siem:${result.key.id}`, ctx.clock.now());
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
  });
}
