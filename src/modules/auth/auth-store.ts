/** SQL for sessions. The cookie value is never stored: only its SHA-256. */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';

type Db = Kysely<DB> | Transaction<DB>;

export interface SessionUser {
  userId: number;
  username: string;
  role: 'admin' | 'member';
  tenantId: number;
}

export function createAuthStore(db: Kysely<DB>) {
  return {
    async insertSession(
      trx: Db,
      s: { idHash: string; tenantId: number; userId: number; now: number; expiresAt: number },
    ) {
      await trx
        .insertInto('sessions')
        .values({
          id_hash: s.idHash,
          tenant_id: s.tenantId,
          user_id: s.userId,
          created_at: s.now,
          expires_at: s.expiresAt,
        })
        .execute();
    },
    /**
     * The session and its user, live or past its expiry (`expired`: not yet removed, its Login.Logout
     * still due): one read, whichever it turns out to be.
     */
    async findSession(
      tenantId: number,
      idHash: string,
      now: number,
    ): Promise<(SessionUser & { expired: boolean }) | undefined> {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', (j) =>
          j.onRef('users.id', '=', 'sessions.user_id').onRef('users.tenant_id', '=', 'sessions.tenant_id'),
        )
        .select([
          'users.id as userId',
          'users.username',
          'users.role',
          'sessions.tenant_id as tenantId',
          'sessions.expires_at as expiresAt',
        ])
        .where('sessions.tenant_id', '=', tenantId)
        .where('sessions.id_hash', '=', idHash)
        .executeTakeFirst();
      if (!row) return undefined;
      const { expiresAt, ...user } = row;
      return {
        ...user,
        userId: Number(user.userId),
        tenantId: Number(user.tenantId),
        expired: Number(expiresAt) <= now,
      };
    },
    async deleteSession(trx: Db, tenantId: number, idHash: string): Promise<boolean> {
      const r = await trx
        .deleteFrom('sessions')
        .where('tenant_id', '=', tenantId)
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export type AuthStore = ReturnType<typeof createAuthStore>;
