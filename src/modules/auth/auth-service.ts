/**
 * Password login, sessions and logout. Each outcome is recorded in the same transaction as the
 * session change: Login.Success with the new session, Login.Failure alone, Login.Logout with the delete.
 */
import crypto_ from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { appendEvent } from '../audit/audit-store.js';
import type { DataCrypto } from '../../crypto/data-crypto.js';
import type { SettingsService } from '../settings/settings-service.js';
import { TOTP_PURPOSE, totpFor, totpStep } from '../users/user-service.js';
import type { UserStore } from '../users/user-store.js';
import type { AuthStore, SessionUser } from './auth-store.js';
import { dummyPasswordHash, verifyPassword } from './password.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export function hashSessionId(sessionId: string): string {
  return crypto_.createHash('sha256').update(sessionId).digest('hex');
}

export const INVALID_CREDENTIALS = 'username or password is incorrect';

/**
 * What a refused login says. Unknown user, wrong password and locked account all say the same, so
 * the answer tells an attacker nothing; the TOTP messages come only after a correct password.
 */
const FAILURE_MESSAGES: Record<string, string> = {
  totp_required: 'totp: this account needs the six-digit code from its authenticator app',
  bad_totp: 'totp: the code is not valid; check the authenticator app and its clock',
  totp_replayed: 'totp: this code was already used; wait for the next one in the authenticator app',
  mfa_not_enrolled: 'this portal requires MFA and this account has no TOTP enrolled; ask an administrator',
};

export function createAuthService(deps: {
  db: Kysely<DB>;
  store: AuthStore;
  users: UserStore;
  settings: Pick<SettingsService, 'getSetting'>;
  crypto: DataCrypto;
  clock: { now(): number };
  sessionTtlMs: number;
}) {
  const { db, store, users, settings, crypto, clock, sessionTtlMs } = deps;

  async function login(input: {
    tenantId: number;
    username: string;
    password: string;
    totp?: string | undefined;
    client: ClientInfo;
  }): Promise<{ sessionId: string; user: SessionUser; expiresAt: number }> {
    const user = await users.findByUsername(input.tenantId, input.username);
    // Always verify (against a dummy hash when there is no such user), so timing does not tell.
    const passwordOk = await verifyPassword(
      input.password,
      user?.password_hash ?? (await dummyPasswordHash()),
    );
    const now = clock.now();
    const policy = await settings.getSetting(input.tenantId, 'password-policy');
    const mfa = await settings.getSetting(input.tenantId, 'mfa');
    let reason: string | null = null;
    let step: number | null = null;
    if (!user) reason = 'unknown_user';
    else if (user.locked_until !== null && user.locked_until > now) reason = 'locked_out';
    else if (!passwordOk) reason = 'bad_password';
    else if (user.totp_secret) {
      const secret = crypto.decrypt(user.totp_secret, input.tenantId, TOTP_PURPOSE);
      const delta = input.totp
        ? totpFor(secret, user.username).validate({ token: input.totp, window: 1, timestamp: now })
        : null;
      if (!input.totp) reason = 'totp_required';
      else if (delta === null) reason = 'bad_totp';
      else step = totpStep(now, delta);
    } else if (mfa.mode === 'required') reason = 'mfa_not_enrolled';

    const recordFailure = async (why: string) => {
      await db.transaction().execute(async (trx) => {
        const details: Record<string, unknown> = { logType: 'LOGIN', reason: why };
        if (user && (why === 'bad_password' || why === 'bad_totp' || why === 'totp_replayed')) {
          // Counted atomically: a burst of parallel guesses cannot slip under the threshold.
          const failed = await users.countFailedLogin(trx, input.tenantId, user.id);
          details.failedAttempts = failed;
          if (policy.lockoutThreshold > 0 && failed >= policy.lockoutThreshold) {
            const lockedUntil = now + policy.lockoutMinutes * 60_000;
            await users.update(trx, input.tenantId, user.id, { failed_logins: 0, locked_until: lockedUntil });
            details.lockedUntil = new Date(lockedUntil).toISOString();
          }
        }
        if (why === 'locked_out' && user?.locked_until)
          details.lockedUntil = new Date(user.locked_until).toISOString();
        await appendEvent(
          trx,
          input.tenantId,
          {
            eventType: 'Login.Failure',
            outcome: 'failure',
            actor: { userId: user ? user.id : null, username: input.username.slice(0, 200), ...input.client },
            target: { type: 'Session' },
            details,
          },
          now,
        );
      });
      throw new AppError('invalid_credentials', FAILURE_MESSAGES[why] ?? INVALID_CREDENTIALS);
    };
    if (reason) return recordFailure(reason);

    const found = user!;
    const sessionId = crypto_.randomBytes(32).toString('base64url');
    const expiresAt = now + sessionTtlMs;
    const opened = await db.transaction().execute(async (trx) => {
      // A code is accepted once, whichever node sees it first (the claim is one conditional update).
      if (step !== null && !(await users.claimTotpStep(trx, input.tenantId, found.id, step))) {
        return 'totp_replayed';
      }
      // A lockout that began while this password was being checked still holds.
      if (!(await users.clearFailuresUnlessLocked(trx, input.tenantId, found.id, now))) return 'locked_out';
      await store.insertSession(trx, {
        idHash: hashSessionId(sessionId),
        tenantId: input.tenantId,
        userId: found.id,
        now,
        expiresAt,
      });
      await appendEvent(
        trx,
        input.tenantId,
        {
          eventType: 'Login.Success',
          outcome: 'success',
          actor: { userId: found.id, username: found.username, ...input.client },
          target: { type: 'Session' },
          details: { logType: 'LOGIN', method: found.totp_secret ? 'password+totp' : 'password' },
        },
        now,
      );
      return null;
    });
    if (opened) return recordFailure(opened);
    return {
      sessionId,
      expiresAt,
      user: { userId: found.id, username: found.username, role: found.role, tenantId: input.tenantId },
    };
  }

  async function logout(input: {
    tenantId: number;
    sessionId: string;
    user: SessionUser;
    client: ClientInfo;
  }) {
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      if (!(await store.deleteSession(trx, input.tenantId, hashSessionId(input.sessionId)))) return;
      await appendEvent(
        trx,
        input.tenantId,
        {
          eventType: 'Login.Logout',
          outcome: 'success',
          actor: { userId: input.user.userId, username: input.user.username, ...input.client },
          target: { type: 'Session' },
          details: { logType: 'LOGOUT' },
        },
        now,
      );
    });
  }

  /**
   * The user of a live session. A session presented after its expiry ends here: it is removed and its
   * Login.Logout recorded (reason `expired`, once: the delete decides who records it).
   */
  async function sessionUser(
    tenantId: number,
    sessionId: string,
    client: { ip: string | null; userAgent: string | null } = { ip: null, userAgent: null },
  ): Promise<SessionUser | undefined> {
    const idHash = hashSessionId(sessionId);
    const now = clock.now();
    const found = await store.findSession(tenantId, idHash, now);
    if (!found) return undefined;
    const { expired, ...user } = found;
    if (!expired) return user;
    await db.transaction().execute(async (trx) => {
      if (!(await store.deleteSession(trx, tenantId, idHash))) return;
      await appendEvent(
        trx,
        tenantId,
        {
          eventType: 'Login.Logout',
          outcome: 'success',
          actor: { userId: user.userId, username: user.username, ...client },
          target: { type: 'Session' },
          details: { logType: 'LOGOUT', reason: 'expired' },
        },
        now,
      );
    });
    return undefined;
  }

  return { login, logout, sessionUser };
}

export type AuthService = ReturnType<typeof createAuthService>;
