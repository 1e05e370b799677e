/**
 * Users and roles. Creating a user, changing a role or a password, and TOTP enrolment are AdminAction
 * events recorded in the same transaction as the change; Details never carry a password or secret.
 * Password length follows the tenant's password policy.
 */
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import type { Kysely } from 'kysely';
import type { DataCrypto } from '../../crypto/data-crypto.js';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { appendEvent, type Actor } from '../audit/audit-store.js';
import { generatePassword, hashPassword, verifyPassword } from '../auth/password.js';
import type { PasswordPolicy } from '../settings/settings-schema.js';
import type { UserRow, UserStore } from './user-store.js';

export type Role = 'admin' | 'member';
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
export const TOTP_PURPOSE = 'totp';

export interface UserView {
  id: number;
  username: string;
  role: Role;
  totpEnabled: boolean;
  lockedUntil: string | null;
  createdAt: string;
}

export function presentUser(u: UserRow): UserView {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    totpEnabled: u.totp_secret !== null,
    lockedUntil:
      u.locked_until && u.locked_until > Date.now() ? new Date(u.locked_until).toISOString() : null,
    createdAt: new Date(u.created_at).toISOString(),
  };
}

/** The RFC 6238 time step a code accepted at `now` with `validate`'s delta belongs to. */
export function totpStep(now: number, delta: number): number {
  return Math.floor(now / 30_000) + delta;
}

export function totpFor(secret: string, username: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'IT Portal',
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

export function createUserService(deps: {
  db: Kysely<DB>;
  store: UserStore;
  clock: { now(): number };
  passwordPolicy: (tenantId: number) => Promise<PasswordPolicy>;
  crypto: DataCrypto;
}) {
  const { db, store, clock, passwordPolicy, crypto } = deps;

  async function checkPassword(tenantId: number, password: string, field = 'password') {
    const { minLength } = await passwordPolicy(tenantId);
    if (password.length < minLength || password.length > 1024) {
      throw new AppError(
        'invalid_request',
        `${field}: must be ${minLength} to 1024 characters (password policy)`,
      );
    }
  }

  async function record(
    trx: Kysely<DB>,
    tenantId: number,
    actor: Actor,
    user: { id: number; username: string },
    details: Record<string, unknown>,
    now: number,
  ) {
    await appendEvent(
      trx,
      tenantId,
      {
        eventType: 'AdminAction',
        outcome: 'success',
        actor,
        target: { type: 'User', id: user.id, name: user.username },
        details,
      },
      now,
    );
  }

  /**
   * Sessions ended by a change to their user (SPEC §2: Login.Logout covers a revoked session): one
   * event for the user whose sessions ended, with how many and who ended them; none when there were none.
   */
  async function recordSessionsRevoked(
    trx: Kysely<DB>,
    tenantId: number,
    actor: Actor,
    user: { id: number; username: string },
    sessions: number,
    now: number,
  ) {
    if (sessions === 0) return;
    await appendEvent(
      trx,
      tenantId,
      {
        eventType: 'Login.Logout',
        outcome: 'success',
        // The user whose sessions ended; the address is not theirs but the one who ended them.
        actor: { userId: user.id, username: user.username, ip: null, userAgent: null },
        target: { type: 'Session' },
        details: {
          logType: 'LOGOUT',
          reason: 'revoked',
          sessions,
          revokedBy: actor.username,
          revokedFrom: actor.ip,
        },
      },
      now,
    );
  }

  async function createUser(input: {
    tenantId: number;
    username: string;
    password: string;
    role: Role;
    actor: Actor;
    /** The operator's ADMIN_PASSWORD for the first admin: any length but empty (see ensureFirstAdmin). */
    operatorChosen?: boolean;
  }): Promise<UserView> {
    if (!USERNAME.test(input.username)) {
      throw new AppError('invalid_request', 'username: 1 to 64 characters of letters, digits and . _ @ -');
    }
    if (input.role !== 'admin' && input.role !== 'member')
      throw new AppError('invalid_request', 'role: admin or member');
    if (!input.operatorChosen) await checkPassword(input.tenantId, input.password);
    else if (input.password.length === 0 || input.password.length > 1024) {
      throw new AppError('invalid_request', 'ADMIN_PASSWORD: must be 1 to 1024 characters');
    }
    if (await store.findByUsername(input.tenantId, input.username)) {
      throw new AppError('conflict', `username: ${input.username} already exists`);
    }
    const passwordHash = await hashPassword(input.password);
    const now = clock.now();
    const id = await db.transaction().execute(async (trx) => {
      const userId = await store.insert(trx, { ...input, passwordHash, now });
      await record(
        trx,
        input.tenantId,
        input.actor,
        { id: userId, username: input.username },
        {
          action: 'user.created',
          before: null,
          after: { username: input.username, role: input.role },
        },
        now,
      );
      return userId;
    });
    return presentUser((await store.findById(input.tenantId, id))!);
  }

  async function listUsers(tenantId: number): Promise<UserView[]> {
    return (await store.list(tenantId)).map(presentUser);
  }

  /** Role change, password reset, TOTP reset or unlock, by an administrator. */
  async function updateUser(input: {
    tenantId: number;
    id: number;
    actor: Actor;
    role?: Role;
    password?: string;
    resetTotp?: boolean;
    unlock?: boolean;
  }): Promise<UserView> {
    const user = await store.findById(input.tenantId, input.id);
    if (!user) throw new AppError('not_found', `user ${input.id} not found`);
    if (input.password !== undefined) await checkPassword(input.tenantId, input.password);
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      // Two demotions at once of the last two admins must not both see "two admins left".
      if (input.role === 'member') await store.lockTenantRoles(trx, input.tenantId);
      const current = input.role === 'member' ? await store.findById(input.tenantId, input.id, trx) : user;
      if (
        input.role === 'member' &&
        current?.role === 'admin' &&
        (await store.countAdmins(input.tenantId, trx)) <= 1
      ) {
        throw new AppError('invalid_request', 'role: refused, this is the last administrator of the portal');
      }
      const changes: Parameters<UserStore['update']>[3] = {};
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      if (input.role !== undefined && input.role !== user.role) {
        changes.role = input.role;
        before.role = user.role;
        after.role = input.role;
      }
      if (passwordHash) {
        changes.password_hash = passwordHash;
        after.passwordChanged = true;
      }
      if (input.resetTotp) {
        changes.totp_secret = null;
        changes.totp_pending_secret = null;
        before.totpEnabled = user.totp_secret !== null;
        after.totpEnabled = false;
      }
      if (input.unlock) {
        changes.failed_logins = 0;
        changes.locked_until = null;
        after.unlocked = true;
      }
      if (Object.keys(changes).length === 0) return;
      await store.update(trx, input.tenantId, input.id, changes);
      // A reset password or TOTP ends the user's sessions: whoever held them must sign in again.
      if (passwordHash || input.resetTotp) {
        const ended = await store.deleteSessions(trx, input.tenantId, input.id);
        await recordSessionsRevoked(trx, input.tenantId, input.actor, user, ended, now);
      }
      await record(trx, input.tenantId, input.actor, user, { action: 'user.updated', before, after }, now);
    });
    return presentUser((await store.findById(input.tenantId, input.id))!);
  }

  async function changeOwnPassword(input: {
    /** The session making the change, kept; the user's other sessions end. */
    keepSessionIdHash?: string;
    tenantId: number;
    userId: number;
    actor: Actor;
    currentPassword: string;
    newPassword: string;
  }) {
    const user = await store.findById(input.tenantId, input.userId);
    if (!user || !(await verifyPassword(input.currentPassword, user.password_hash))) {
      throw new AppError('invalid_request', 'currentPassword: incorrect');
    }
    await checkPassword(input.tenantId, input.newPassword, 'newPassword');
    const passwordHash = await hashPassword(input.newPassword);
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      await store.update(trx, input.tenantId, user.id, { password_hash: passwordHash });
      const ended = await store.deleteSessions(trx, input.tenantId, user.id, input.keepSessionIdHash);
      await recordSessionsRevoked(trx, input.tenantId, input.actor, user, ended, now);
      await record(
        trx,
        input.tenantId,
        input.actor,
        user,
        { action: 'user.password_changed', after: { passwordChanged: true } },
        now,
      );
    });
  }

  /** Starts TOTP enrolment: a new secret kept pending until a code from it is confirmed. */
  async function startTotpEnrolment(tenantId: number, userId: number) {
    const user = await store.findById(tenantId, userId);
    if (!user) throw new AppError('not_found', 'user not found');
    // A session alone must not swap an enrolled authenticator for the attacker's own.
    if (user.totp_secret) {
      throw new AppError(
        'conflict',
        'TOTP is already enrolled for this account; an administrator can reset it',
      );
    }
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await store.update(db, tenantId, userId, {
      totp_pending_secret: crypto.encrypt(secret, tenantId, TOTP_PURPOSE),
    });
    const uri = totpFor(secret, user.username).toString();
    return { otpauthUri: uri, qrCodeDataUrl: await QRCode.toDataURL(uri) };
  }

  async function confirmTotpEnrolment(input: {
    tenantId: number;
    userId: number;
    actor: Actor;
    code: string;
  }) {
    const user = await store.findById(input.tenantId, input.userId);
    if (!user?.totp_pending_secret) throw new AppError('invalid_request', 'code: start an enrolment first');
    const secret = crypto.decrypt(user.totp_pending_secret, input.tenantId, TOTP_PURPOSE);
    const now = clock.now();
    const delta = totpFor(secret, user.username).validate({ token: input.code, window: 1, timestamp: now });
    if (delta === null) {
      throw new AppError(
        'invalid_request',
        'code: does not match; check the authenticator app and the clock',
      );
    }
    await db.transaction().execute(async (trx) => {
      await store.update(trx, input.tenantId, user.id, {
        totp_secret: user.totp_pending_secret,
        totp_pending_secret: null,
        // The code that confirmed the enrolment cannot also sign in (each step is accepted once).
        totp_last_step: totpStep(now, delta),
      });
      await record(
        trx,
        input.tenantId,
        input.actor,
        user,
        {
          action: 'user.totp_enrolled',
          before: { totpEnabled: user.totp_secret !== null },
          after: { totpEnabled: true },
        },
        now,
      );
    });
    return presentUser((await store.findById(input.tenantId, user.id))!);
  }

  /**
   * The first admin of a tenant with no users: from ADMIN_USERNAME / ADMIN_PASSWORD, or a generated
   * password returned once for the caller to print. Null when the tenant already has users.
   */
  async function ensureFirstAdmin(
    tenantId: number,
    username: string | undefined,
    password: string | undefined,
  ) {
    if ((await store.count(tenantId)) > 0) return null;
    const name = username ?? 'admin';
    const secret = password ?? generatePassword();
    // ADMIN_PASSWORD is the operator's explicit choice for a bootstrap account (as Grafana's or
    // Keycloak's admin variables are): a start never fails on it; one shorter than the password policy
    // is accepted and reported (`belowPolicy`), and every later password follows the policy.
    const { minLength } = await passwordPolicy(tenantId);
    await createUser({
      tenantId,
      username: name,
      password: secret,
      role: 'admin',
      actor: { userId: null, username: 'system', ip: null, userAgent: null },
      operatorChosen: password !== undefined,
    });
    return {
      username: name,
      password: secret,
      generated: password === undefined,
      belowPolicy: password !== undefined && password.length < minLength ? minLength : null,
    };
  }

  return {
    createUser,
    listUsers,
    updateUser,
    changeOwnPassword,
    startTotpEnrolment,
    confirmTotpEnrolment,
    ensureFirstAdmin,
  };
}

export type UserService = ReturnType<typeof createUserService>;
