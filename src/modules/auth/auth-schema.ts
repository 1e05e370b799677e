import { Type } from '@fastify/type-provider-typebox';

export const LoginBody = Type.Object(
  {
    /** The user's name in this portal. */
    username: Type.String({ minLength: 1, maxLength: 200, description: 'username, 1 to 200 characters' }),
    /** The user's password. */
    password: Type.String({ minLength: 1, maxLength: 1024, description: 'password, 1 to 1024 characters' }),
    /** Six-digit TOTP code, when the user has enrolled one. */
    totp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: 'six-digit TOTP code' })),
  },
  { additionalProperties: false },
);

export const Me = Type.Object({
  /** The signed-in user's id. */
  id: Type.Integer(),
  /** The signed-in user's name. */
  username: Type.String(),
  /** admin or member. */
  role: Type.Union([Type.Literal('admin'), Type.Literal('member')]),
  /** The tenant (portal) the session belongs to. */
  tenantId: Type.Integer(),
  /** Send as X-CSRF-Token on every POST, PUT, PATCH and DELETE of this session. */
  csrfToken: Type.String(),
});

/** Every error answer of the API (errors.ts): a stable code and a message, never a stack trace. */
export const ErrorBody = Type.Object({
  /** Stable snake_case error code. */
  Error: Type.String({ description: 'stable snake_case error code, e.g. invalid_cursor' }),
  /** What went wrong and how to fix it. */
  Message: Type.String({ description: 'what went wrong and how to fix it' }),
});
