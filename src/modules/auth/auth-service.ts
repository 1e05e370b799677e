/**
 * Password login, sessions and logout. Each outcome is recorded in the same transaction as the
 * session change: Login.Success with the new session, Login.Failure alone, Login.Logout with the delete.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { appendEvent } from '../audit/audit-store.js';
import type { UserStore } from '../users/user-store.js';
import type { AuthStore, SessionUser } from './auth-store.js';
import { dummyPasswordHash, verifyPassword } from './password.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export function hashSessionId(sessionId: string): string {
  return crypto.createHash('sha256').update(sessionId).digest('hex');
}

export const INVALID_CREDENTIALS = 'username or password is incorrect';

export function createAuthService(deps: {
  db: Kysely<DB>;
  store: AuthStore;
  users: UserStore;
  clock: { now(): number };
  sessionTtlMs: number;
}) {
  const { db, store, users, clock, sessionTtlMs } = deps;

  async function login(input: {
    tenantId: number;
    username: string;
    password: string;
    client: ClientInfo;
  }): Promise<{ sessionId: string; user: SessionUser; expiresAt: number }> {
    const user = await users.findByUsername(input.tenantId, input.username);
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await dummyPasswordHash()));
    const now = clock.now();
    if (!user || !ok) {
      await appendEvent(
        db,
        input.tenantId,
        {
          eventType: 'Login.Failure',
          outcome: 'failure',
          actor: { userId: user ? user.id : null, username: input.username.slice(0, 200), ...input.client },
          target: { type: 'Session' },
          details: { logType: 'LOGIN', reason: user ? 'bad_password' : 'unknown_user' },
        },
        now,
      );
      throw new AppError('invalid_credentials', INVALID_CREDENTIALS);
    }
    const sessionId = crypto.randomBytes(32).toString('base64url');
    const expiresAt = now + sessionTtlMs;
    await db.transaction().execute(async (trx) => {
      await store.insertSession(trx, {
        idHash: hashSessionId(sessionId),
        tenantId: input.tenantId,
        userId: user.id,
        now,
        expiresAt,
      });
      await appendEvent(
        trx,
        input.tenantId,
        {
          eventType: 'Login.Success',
          outcome: 'success',
          actor: { userId: user.id, username: user.username, ...input.client },
          target: { type: 'Session' },
          details: { logType: 'LOGIN', method: 'password' },
        },
        now,
      );
    });
    return {
      sessionId,
      expiresAt,
      user: { userId: user.id, username: user.username, role: user.role, tenantId: input.tenantId },
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

  async function sessionUser(tenantId: number, sessionId: string): Promise<SessionUser | undefined> {
    return store.findSession(tenantId, hashSessionId(sessionId), clock.now());
  }

  return { login, logout, sessionUser };
}

export type AuthService = ReturnType<typeof createAuthService>;
