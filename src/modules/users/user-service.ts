/** Users and roles. Creating a user is an AdminAction recorded in the same transaction. */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { appendEvent, type Actor } from '../audit/audit-store.js';
import { generatePassword, hashPassword } from '../auth/password.js';
import type { UserStore } from './user-store.js';

export type Role = 'admin' | 'member';
export const MIN_PASSWORD_LENGTH = 12;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

export interface UserView {
  id: number;
  username: string;
  role: Role;
  createdAt: string;
}

export function createUserService({
  db,
  store,
  clock,
}: {
  db: Kysely<DB>;
  store: UserStore;
  clock: { now(): number };
}) {
  async function createUser(input: {
    tenantId: number;
    username: string;
    password: string;
    role: Role;
    actor: Actor;
  }): Promise<UserView> {
    if (!USERNAME.test(input.username)) {
      throw new AppError('invalid_request', 'username: 1 to 64 characters of letters, digits and . _ @ -');
    }
    if (input.password.length < MIN_PASSWORD_LENGTH || input.password.length > 1024) {
      throw new AppError('invalid_request', `password: ${MIN_PASSWORD_LENGTH} to 1024 characters`);
    }
    if (input.role !== 'admin' && input.role !== 'member') {
      throw new AppError('invalid_request', 'role: admin or member');
    }
    if (await store.findByUsername(input.tenantId, input.username)) {
      throw new AppError('conflict', `username: ${input.username} already exists`);
    }
    const passwordHash = await hashPassword(input.password);
    const now = clock.now();
    const id = await db.transaction().execute(async (trx) => {
      const userId = await store.insert(trx, { ...input, passwordHash, now });
      await appendEvent(
        trx,
        input.tenantId,
        {
          eventType: 'AdminAction',
          outcome: 'success',
          actor: input.actor,
          target: { type: 'User', id: userId, name: input.username },
          details: { action: 'user.created', after: { username: input.username, role: input.role } },
        },
        now,
      );
      return userId;
    });
    return { id, username: input.username, role: input.role, createdAt: new Date(now).toISOString() };
  }

  /**
   * The first admin of a tenant with no users: from ADMIN_USERNAME / ADMIN_PASSWORD, or a generated
   * password returned once for the caller to print. Null when the tenant already has users.
   */
  async function ensureFirstAdmin(
    tenantId: number,
    username: string | undefined,
    password: string | undefined,
  ): Promise<{ username: string; password: string; generated: boolean } | null> {
    if ((await store.count(tenantId)) > 0) return null;
    const name = username ?? 'admin';
    const secret = password ?? generatePassword();
    await createUser({
      tenantId,
      username: name,
      password: secret,
      role: 'admin',
      actor: { userId: null, username: 'system', ip: null, userAgent: null },
    });
    return { username: name, password: secret, generated: password === undefined };
  }

  return { createUser, ensureFirstAdmin };
}

export type UserService = ReturnType<typeof createUserService>;
