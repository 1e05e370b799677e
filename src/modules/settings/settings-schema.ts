import { Type, type Static } from '@fastify/type-provider-typebox';

const Cidr = Type.String({ minLength: 1, maxLength: 64, description: 'an IPv4 or IPv6 address or CIDR' });

export const IpAccessSchema = Type.Object(
  {
    /** When non-empty, only these addresses may use the portal. */
    allow: Type.Array(Cidr, { maxItems: 100, description: 'CIDRs allowed; empty = every address' }),
    /** These addresses are always refused (block wins over allow). */
    block: Type.Array(Cidr, { maxItems: 100, description: 'CIDRs refused' }),
  },
  { additionalProperties: false },
);
export type IpAccess = Static<typeof IpAccessSchema>;

export const PasswordPolicySchema = Type.Object(
  {
    /** Shortest password accepted when a user is created or a password changed. */
    minLength: Type.Integer({ minimum: 8, maximum: 128, description: 'an integer from 8 to 128' }),
    /** Failed logins in a row that lock the account; 0 = never lock. */
    lockoutThreshold: Type.Integer({
      minimum: 0,
      maximum: 100,
      description: 'an integer from 0 (off) to 100',
    }),
    /** How long a locked account stays locked. */
    lockoutMinutes: Type.Integer({ minimum: 1, maximum: 1440, description: 'an integer from 1 to 1440' }),
  },
  { additionalProperties: false },
);
export type PasswordPolicy = Static<typeof PasswordPolicySchema>;

export const MfaSchema = Type.Object(
  {
    /** optional: TOTP for those who enrolled; required: no password-only login. */
    mode: Type.Union([Type.Literal('optional'), Type.Literal('required')], {
      description: 'optional or required',
    }),
  },
  { additionalProperties: false },
);
export type MfaSetting = Static<typeof MfaSchema>;

const Level = Type.Union([Type.Literal('none'), Type.Literal('read'), Type.Literal('write')], {
  description: 'none, read or write',
});
export type AccessLevel = 'none' | 'read' | 'write';

export const AclSchema = Type.Object(
  {
    /** What members may do; administrators may do everything. */
    member: Type.Object(
      { companies: Level, documents: Level, passwords: Level },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Acl = Static<typeof AclSchema>;

export const SETTING_DEFAULTS = {
  'ip-access': { allow: [], block: [] } as IpAccess,
  'password-policy': { minLength: 12, lockoutThreshold: 5, lockoutMinutes: 15 } as PasswordPolicy,
  mfa: { mode: 'optional' } as MfaSetting,
  acl: { member: { companies: 'write', documents: 'write', passwords: 'read' } } as Acl,
};
export type SettingName = keyof typeof SETTING_DEFAULTS;
export interface SettingValues {
  'ip-access': IpAccess;
  'password-policy': PasswordPolicy;
  mfa: MfaSetting;
  acl: Acl;
}

/** The PolicyChange Target.Type of each setting (SPEC §2). */
export const SETTING_TARGET: Record<SettingName, string> = {
  'ip-access': 'IpRange',
  'password-policy': 'PasswordPolicy',
  mfa: 'MfaOption',
  acl: 'GlobalAcl',
};
