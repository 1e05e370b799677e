/**
 * Per-request facts every route relies on, computed once in onRequest:
 * - clientIp: the socket peer, or, when the peer is in TRUSTED_PROXIES, the rightmost untrusted
 *   X-Forwarded-For hop (Fastify's trustProxy, i.e. proxy-addr). A header from an untrusted peer is ignored.
 * - tenantId: the tenant that owns the request's host name (or the default tenant), then the tenant's
 *   IP allow/block lists, on every request except the ops probes.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { AppError } from '../errors.js';
import type { SessionUser } from '../modules/auth/auth-store.js';
import { appendEvent } from '../modules/audit/audit-store.js';
import { ipPermitted } from '../modules/settings/settings-service.js';
import { ipInCidrs, normalizeIp } from './ip.js';
import { redactSecrets } from './redact.js';

/**
 * Strict: only this origin's scripts, styles and API; images may also be data: URLs (the TOTP QR
 * code); no inline script, no framing, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** On every answer the process gives, also those the framework gives before any route (error-handler.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** Liveness, readiness and metrics: answered for any host and address (they carry no tenant data). */
export const UNGATED_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: number;
    clientIp: string;
    user: SessionUser | null;
    sessionId: string | null;
  }
}

export function installRequestContext(
  app: FastifyInstance,
  ctx: Pick<AppContext, 'tenants' | 'settings' | 'rateLimiter' | 'database' | 'clock'>,
): void {
  app.decorateRequest('tenantId', 0);
  app.decorateRequest('clientIp', '');
  app.decorateRequest('user', null);
  app.decorateRequest('sessionId', null);
  app.addHook('onRequest', async (request, reply) => {
    request.clientIp = normalizeIp(request.ip);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    reply.header('X-Request-Id', request.id);
    // Every request but the load balancer's probes belongs to a tenant and passes its IP lists. The
    // matched route decides, not the raw URL: /%61pi/... routes to /api/... and must not slip past.
    if (UNGATED_ROUTES.has(request.routeOptions.url ?? '')) return;
    const tenantId = await ctx.tenants.resolveTenantId(request.hostname);
    if (tenantId === null) throw new AppError('not_found', 'no portal is configured for this host name');
    request.tenantId = tenantId;
    // The tenant's IP allow/block lists, before anything else the request would do.
    const lists = await ctx.settings.getSetting(tenantId, 'ip-access');
    if (!ipPermitted(request.clientIp, lists)) {
      const now = ctx.clock.now();
      // One Access.Denied per address per minute; a flood from a blocked address cannot flood the log.
      const hit = await ctx.rateLimiter.hit(tenantId, `ip-denied:${request.clientIp}`, now);
      if (hit.count === 1) {
        await appendEvent(
          ctx.database.db,
          tenantId,
          {
            eventType: 'Access.Denied',
            outcome: 'denied',
            actor: {
              userId: null,
              username: null,
              ip: request.clientIp,
              userAgent: request.headers['user-agent'] ?? null,
            },
            target: {
              type: 'IpRange',
              id: null,
              name: `${request.method} ${redactSecrets(request.url.split('?')[0]!).slice(0, 200)}`,
            },
            details: {
              reason:
                lists.block.length > 0 && ipInCidrs(request.clientIp, lists.block)
                  ? 'ip_blocked'
                  : 'ip_not_allowed',
            },
          },
          now,
        );
      }
      throw new AppError('forbidden', "your address is not allowed by this portal's IP access list");
    }
  });
}
