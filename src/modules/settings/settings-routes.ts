import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import type { Guards } from '../auth/auth-guard.js';
import { ErrorBody } from '../auth/auth-schema.js';
import { actorOf } from '../siem-keys/siem-key-routes.js';
import {
  AclSchema,
  IpAccessSchema,
  MfaSchema,
  PasswordPolicySchema,
  type SettingName,
  type SettingValues,
} from './settings-schema.js';

const SETTINGS: Array<{ name: SettingName; schema: TSchema; summary: string; description: string }> = [
  {
    name: 'ip-access',
    schema: IpAccessSchema,
    summary: 'Tenant IP allowlist/blocklist (PolicyChange IpRange)',
    description:
      'CIDRs allowed (empty: every address) and refused (the block list wins) on every request but the probes.',
  },
  {
    name: 'password-policy',
    schema: PasswordPolicySchema,
    summary: 'Password length and lockout (PolicyChange PasswordPolicy)',
    description: 'The shortest password accepted, and how many failed sign-ins lock an account for how long.',
  },
  {
    name: 'mfa',
    schema: MfaSchema,
    summary: 'TOTP optional or required (PolicyChange MfaOption)',
    description: 'optional: TOTP for users who enrolled; required: no sign-in with a password alone.',
  },
  {
    name: 'acl',
    schema: AclSchema,
    summary: 'What members may do per resource (PolicyChange GlobalAcl)',
    description: 'none, read or write per resource for members; administrators may do everything.',
  },
];

export function settingsRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };
    for (const { name, schema, summary, description } of SETTINGS) {
      const url = `/api/admin/settings/${name}`;
      app.get(
        url,
        {
          schema: {
            tags: ['settings'],
            summary,
            description: `The current setting. ${description}`,
            response: { 200: schema, ...errors },
          },
          onRequest: guards.requireAdmin,
        },
        async (request) => ctx.settings.getSetting(request.tenantId, name),
      );
      app.put(
        url,
        {
          schema: {
            tags: ['settings'],
            summary,
            description: `Replaces the setting, answered with the stored value; recorded as PolicyChange with before and after. ${description}`,
            body: schema,
            response: { 200: schema, ...errors },
          },
          onRequest: guards.requireAdmin,
        },
        async (request) =>
          ctx.settings.updateSetting(
            request.tenantId,
            name,
            request.body as SettingValues[typeof name],
            actorOf(request),
          ),
      );
    }
  };
}
