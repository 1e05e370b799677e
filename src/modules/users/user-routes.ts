import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import type { Guards } from '../auth/auth-guard.js';
import { hashSessionId } from '../auth/auth-service.js';
import { ErrorBody } from '../auth/auth-schema.js';
import { actorOf } from '../siem-keys/siem-key-routes.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')], { description: 'admin or member' });
const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: Type.String(),
  /** True once the user has confirmed a TOTP enrolment. */
  totpEnabled: Type.Boolean(),
  /** Set while the account is locked out by the password policy. */
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
const Password = (description: string) => Type.String({ minLength: 1, maxLength: 1024, description });
const Code = Type.String({ pattern: '^[0-9]{6}$', description: 'six-digit TOTP code' });

export function userRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
    app.get(
      '/api/admin/users',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['users'],
          summary: 'Users and roles',
          description: "The tenant's users: role, TOTP enrolment, lockout.",
          response: { 200: Type.Array(User), ...errors },
        },
      },
      (req) => ctx.users.listUsers(req.tenantId),
    );
    app.post(
      '/api/admin/users',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['users'],
          summary: 'Create a user (AdminAction)',
          description:
            'Creates a user with a role; the password must meet the password policy. A taken username is a 409.',
          body: Type.Object(
            {
              username: Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'letters, digits and . _ @ -',
              }),
              password: Password('at least the password policy minimum length'),
              role: Role,
            },
            { additionalProperties: false },
          ),
          response: { 201: User, ...errors },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(await ctx.users.createUser({ tenantId: req.tenantId, ...req.body, actor: actorOf(req) })),
    );
    app.patch(
      '/api/admin/users/:id',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['users'],
          summary: "Change a user's role or password, reset their TOTP, or unlock them (AdminAction)",
          description: 'Changes what the body names; demoting the last administrator is a 400.',
          params: Type.Object({
            id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'a user id' }),
          }),
          body: Type.Object(
            {
              role: Type.Optional(Role),
              password: Type.Optional(Password('a new password, at least the policy minimum length')),
              resetTotp: Type.Optional(Type.Boolean({ description: 'true to remove the TOTP enrolment' })),
              unlock: Type.Optional(Type.Boolean({ description: 'true to clear a lockout' })),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: User, ...errors },
        },
      },
      (req) =>
        ctx.users.updateUser({ tenantId: req.tenantId, id: req.params.id, actor: actorOf(req), ...req.body }),
    );
    app.post(
      '/api/me/password',
      {
        onRequest: guards.requireUser,
        schema: {
          tags: ['users'],
          summary: 'Change my password',
          description:
            'Needs the current password; the new one must meet the password policy. Other sessions of the user end.',
          body: Type.Object(
            { currentPassword: Password('the current password'), newPassword: Password('the new password') },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (req, reply) => {
        await ctx.users.changeOwnPassword({
          keepSessionIdHash: hashSessionId(req.sessionId!),
          tenantId: req.tenantId,
          userId: req.user!.userId,
          actor: actorOf(req),
          ...req.body,
        });
        return reply.status(204).send(null);
      },
    );
    app.post(
      '/api/me/totp',
      {
        onRequest: guards.requireUser,
        schema: {
          tags: ['users'],
          summary: 'Start TOTP enrolment: an otpauth URI and its QR code',
          description:
            'Starts (or restarts) an enrolment: the pending secret is kept encrypted until confirmed with a code.',
          response: {
            200: Type.Object({
              /** otpauth://totp/... for an authenticator app. */
              otpauthUri: Type.String(),
              /** The same URI as a PNG QR code data URL. */
              qrCodeDataUrl: Type.String(),
            }),
            ...errors,
          },
        },
      },
      (req) => ctx.users.startTotpEnrolment(req.tenantId, req.user!.userId),
    );
    app.post(
      '/api/me/totp/confirm',
      {
        onRequest: guards.requireUser,
        schema: {
          tags: ['users'],
          summary: 'Confirm TOTP enrolment with a code from the app',
          description:
            'Confirms the pending enrolment; TOTP is then asked at every sign-in. That code cannot also sign in.',
          body: Type.Object({ code: Code }, { additionalProperties: false }),
          response: { 200: User, ...errors },
        },
      },
      (req) =>
        ctx.users.confirmTotpEnrolment({
          tenantId: req.tenantId,
          userId: req.user!.userId,
          actor: actorOf(req),
          code: req.body.code,
        }),
    );
  };
}
