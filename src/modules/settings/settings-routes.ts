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

const SETTINGS: Array<{ name: SettingName; schema: TSchema; summary: string }> = [
  {
    name: 'ip-access',
    schema: IpAccessSchema,
    summary: 'Tenant IP allowlist/blocklist (PolicyChange IpRange)',
  },
  {
    name: 'password-policy',
    schema: PasswordPolicySchema,
    summary: 'Password length and lockout (PolicyChange PasswordPolicy)',
  },
  { name: 'mfa', schema: MfaSchema, summary: 'TOTP optional or required (PolicyChange MfaOption)' },
  { name: 'acl', schema: AclSchema, summary: 'What members may do per resource (PolicyChange GlobalAcl)' },
];

export function settingsRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };
    for (const { name, schema, summary } of SETTINGS) {
      const url = `/api/admin/settings/${name}`;
      app.get(
        url,
        {
          schema: { tags: ['settings'], summary, response: { 200: schema, ...errors } },
          onRequest: guards.requireAdmin,
        },
        async (request) => ctx.settings.getSetting(request.tenantId, name),
      );
      app.put(
        url,
        {
          schema: { tags: ['settings'], summary, body: schema, response: { 200: schema, ...errors } },
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
