/**
 * Per-request facts every route relies on, computed once in onRequest:
 * - clientIp: the socket peer, or, when the peer is in TRUSTED_PROXIES, the rightmost untrusted
 *   X-Forwarded-For hop (Fastify's trustProxy, i.e. proxy-addr). A header from an untrusted peer is ignored.
 * - tenantId: the tenant that owns the request's host name (or the default tenant).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { AppError } from '../errors.js';
import type { SessionUser } from '../modules/auth/auth-store.js';
import { normalizeIp } from './ip.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: number;
    clientIp: string;
    user: SessionUser | null;
    sessionId: string | null;
  }
}

export function installRequestContext(app: FastifyInstance, ctx: Pick<AppContext, 'tenants'>): void {
  app.decorateRequest('tenantId', 0);
  app.decorateRequest('clientIp', '');
  app.decorateRequest('user', null);
  app.decorateRequest('sessionId', null);
  app.addHook('onRequest', async (request, reply) => {
    request.clientIp = normalizeIp(request.ip);
    reply.header('Cache-Control', 'no-store');
    reply.header('X-Content-Type-Options', 'nosniff');
    if (!request.url.startsWith('/api/')) return;
    const tenantId = await ctx.tenants.resolveTenantId(request.hostname);
    if (tenantId === null) throw new AppError('not_found', 'no portal is configured for this host name');
    request.tenantId = tenantId;
  });
}
