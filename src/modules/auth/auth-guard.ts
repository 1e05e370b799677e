/**
 * Session checks for portal and admin routes. A member who reaches an admin route is refused with a
 * 403 and an Access.Denied naming the user and the route.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { declareGuard } from '../../http/openapi.js';
import { redactSecrets } from '../../http/redact.js';
import { summaryDetails } from '../audit/refusal-throttle.js';
import { appendEvent } from '../audit/audit-store.js';
import { CSRF_HEADER, csrfTokenValid } from './csrf.js';

export const SESSION_COOKIE = 'itp_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createGuards(ctx: Pick<AppContext, 'auth' | 'database' | 'clock' | 'csrfKey' | 'refusals'>) {
  async function requireUser(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const sessionId = request.cookies[SESSION_COOKIE];
    const user = sessionId
      ? await ctx.auth.sessionUser(request.tenantId, sessionId, {
          ip: request.clientIp,
          userAgent: request.headers['user-agent'] ?? null,
        })
      : undefined;
    if (!sessionId || !user) throw new AppError('unauthenticated', 'sign in first: no valid session');
    if (
      !SAFE_METHODS.has(request.method) &&
      !csrfTokenValid(ctx.csrfKey, sessionId, request.headers[CSRF_HEADER])
    ) {
      throw new AppError(
        'csrf_failed',
        'X-CSRF-Token: missing or wrong; send the csrfToken from login or GET /api/me',
      );
    }
    request.user = user;
    request.sessionId = sessionId;
  }

  async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await requireUser(request, reply);
    const user = request.user!;
    if (user.role === 'admin') return;
    const route = request.routeOptions.url ?? redactSecrets(request.url.split('?')[0]!);
    const now = ctx.clock.now();
    // One member probing admin routes must not flood the SIEM (refusal-throttle.ts): per user and route.
    const admission = await ctx.refusals.admit(
      request.tenantId,
      `admin-denied:${user.userId}:${request.method} ${route}`,
      now,
    );
    if (admission.record) {
      await appendEvent(
        ctx.database.db,
        request.tenantId,
        {
          eventType: 'Access.Denied',
          outcome: 'denied',
          actor: {
            userId: user.userId,
            username: user.username,
            ip: request.clientIp,
            userAgent: request.headers['user-agent'] ?? null,
          },
          target: { type: 'AdminRoute', id: null, name: `${request.method} ${route}` },
          details: {
            reason: 'admin_role_required',
            role: user.role,
            ...summaryDetails(admission),
          },
        },
        now,
      );
    }
    throw new AppError('forbidden', 'this route is for administrators');
  }

  return {
    requireUser: declareGuard('session', requireUser),
    requireAdmin: declareGuard('admin', requireAdmin),
  };
}

export type Guards = ReturnType<typeof createGuards>;
