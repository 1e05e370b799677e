/**
 * Tenant security settings: IP allow/block lists, password policy, MFA mode, global ACL. Each change is
 * a PolicyChange (Target.Type per SETTING_TARGET) carrying Details.before and Details.after, written in
 * the same transaction as the setting. Weakening MFA (required → optional) is critical.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { ipInCidrs, parseCidrs } from '../../http/ip.js';
import { appendEvent, type Actor } from '../audit/audit-store.js';
import type { UserStore } from '../users/user-store.js';
import {
  SETTING_DEFAULTS,
  SETTING_TARGET,
  type AccessLevel,
  type IpAccess,
  type SettingName,
  type SettingValues,
} from './settings-schema.js';
import type { SettingsStore } from './settings-store.js';

export type AclResource = 'companies' | 'documents' | 'passwords';
const RANK: Record<AccessLevel, number> = { none: 0, read: 1, write: 2 };

/** Addresses the lists let through: not blocked, and allowed when an allow list exists. */
export function ipPermitted(ip: string, lists: IpAccess): boolean {
  if (lists.block.length > 0 && ipInCidrs(ip, lists.block)) return false;
  return lists.allow.length === 0 || ipInCidrs(ip, lists.allow);
}

export function createSettingsService(deps: {
  db: Kysely<DB>;
  store: SettingsStore;
  users: UserStore;
  clock: { now(): number };
}) {
  const { db, store, users, clock } = deps;

  async function getSetting<N extends SettingName>(tenantId: number, name: N): Promise<SettingValues[N]> {
    const stored = await store.get(tenantId, name);
    return (stored ?? SETTING_DEFAULTS[name]) as SettingValues[N];
  }

  async function validate<N extends SettingName>(
    tenantId: number,
    name: N,
    value: SettingValues[N],
    actor: Actor,
  ): Promise<SettingValues[N]> {
    if (name === 'ip-access') {
      const v = value as IpAccess;
      const lists: IpAccess = { allow: parseCidrs(v.allow, 'allow'), block: parseCidrs(v.block, 'block') };
      if (actor.ip && !ipPermitted(actor.ip, lists)) {
        throw new AppError(
          'invalid_request',
          `ip-access: refused, this change would lock out the address making it (${actor.ip}); add it to allow or remove it from block first`,
        );
      }
      return lists as SettingValues[N];
    }
    if (name === 'mfa' && (value as SettingValues['mfa']).mode === 'required' && actor.userId !== null) {
      const me = await users.findById(tenantId, actor.userId);
      if (!me?.totp_secret) {
        throw new AppError(
          'invalid_request',
          'mode: enrol TOTP for your own account before requiring MFA, or you would lock yourself out',
        );
      }
    }
    return value;
  }

  async function updateSetting<N extends SettingName>(
    tenantId: number,
    name: N,
    value: SettingValues[N],
    actor: Actor,
  ): Promise<SettingValues[N]> {
    const after = await validate(tenantId, name, value, actor);
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      const before = ((await store.get(tenantId, name, trx)) ?? SETTING_DEFAULTS[name]) as SettingValues[N];
      await store.put(trx, tenantId, name, after, now);
      const weakensMfa =
        name === 'mfa' &&
        (before as SettingValues['mfa']).mode === 'required' &&
        (after as SettingValues['mfa']).mode === 'optional';
      await appendEvent(
        trx,
        tenantId,
        {
          eventType: 'PolicyChange',
          outcome: 'success',
          severity: weakensMfa ? 'critical' : 'warning',
          actor,
          target: { type: SETTING_TARGET[name], id: name, name },
          details: { setting: name, before, after },
        },
        now,
      );
    });
    return after;
  }

  async function aclAllows(tenantId: number, role: string, resource: AclResource, level: 'read' | 'write') {
    if (role === 'admin') return true;
    const acl = await getSetting(tenantId, 'acl');
    return RANK[acl.member[resource]] >= RANK[level];
  }

  return { getSetting, updateSetting, aclAllows };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
