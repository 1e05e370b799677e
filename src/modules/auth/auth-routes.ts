import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { SESSION_COOKIE, type Guards } from './auth-guard.js';
import { csrfTokenFor } from './csrf.js';
import { ErrorBody, LoginBody, Me } from './auth-schema.js';

export function authRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  const cookieOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: ctx.config.cookieSecure,
  };
  return async (app) => {
    app.post(
      '/api/auth/login',
      {
        // A NUL in the username or password must still end as a recorded Login.Failure (text-rules.ts).
        config: { nul: 'replace' },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with username and password; opens a session cookie',
          description:
            'Checks the password (and the TOTP code when the user has one or the portal requires it), sets the HttpOnly `itp_session` cookie and answers the user with the `csrfToken` to send as X-CSRF-Token. One 401 for an unknown user, a wrong password and a lockout. Recorded as Login.Success or Login.Failure; sign-ins per address are rate-limited (429 with Retry-After).',
          body: LoginBody,
          response: { 200: Me, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
        },
      },
      async (request, reply) => {
        // Login CSRF: a browser says when a request comes from another site; refuse those.
        if (request.headers['sec-fetch-site'] === 'cross-site') {
          throw new AppError('csrf_failed', 'cross-site sign-in refused');
        }
        const limit = await ctx.loginLimiter.hit(
          request.tenantId,
          `login:${request.clientIp}`,
          ctx.clock.now(),
        );
        if (!limit.allowed) {
          throw new AppError(
            'rate_limited',
            `too many sign-in attempts from this address; retry after ${limit.retryAfterSeconds} s`,
            {
              'Retry-After': String(limit.retryAfterSeconds),
            },
          );
        }
        const { sessionId, user, expiresAt } = await ctx.auth.login({
          tenantId: request.tenantId,
          username: request.body.username,
          password: request.body.password,
          totp: request.body.totp,
          client: { ip: request.clientIp, userAgent: request.headers['user-agent'] ?? null },
        });
        reply.setCookie(SESSION_COOKIE, sessionId, { ...cookieOptions, expires: new Date(expiresAt) });
        return {
          id: user.userId,
          username: user.username,
          role: user.role,
          tenantId: user.tenantId,
          csrfToken: csrfTokenFor(ctx.csrfKey, sessionId),
        };
      },
    );

    app.post(
      '/api/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'End the session',
          description: 'Ends the session on every node and clears the cookie. Recorded as Login.Logout.',
          response: { 204: Type.Null(), 401: ErrorBody },
        },
        onRequest: guards.requireUser,
      },
      async (request, reply) => {
        await ctx.auth.logout({
          tenantId: request.tenantId,
          sessionId: request.sessionId!,
          user: request.user!,
          client: { ip: request.clientIp, userAgent: request.headers['user-agent'] ?? null },
        });
        reply.clearCookie(SESSION_COOKIE, cookieOptions);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'Who am I',
          description:
            "The session's user, role and tenant, and the csrfToken to send as X-CSRF-Token on every POST, PUT, PATCH and DELETE.",
          response: { 200: Me, 401: ErrorBody },
        },
        onRequest: guards.requireUser,
      },
      async (request) => {
        const u = request.user!;
        return {
          id: u.userId,
          username: u.username,
          role: u.role,
          tenantId: u.tenantId,
          csrfToken: csrfTokenFor(ctx.csrfKey, request.sessionId!),
        };
      },
    );
  };
}
