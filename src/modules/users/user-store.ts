/** SQL for users. Every query names the tenant. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DB, UsersTable } from '../../db/schema.js';

export type UserRow = Selectable<UsersTable>;
type Db = Kysely<DB> | Transaction<DB>;

export function createUserStore(db: Kysely<DB>) {
  return {
    async findByUsername(tenantId: number, username: string): Promise<UserRow | undefined> {
      return db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('username', '=', username)
        .executeTakeFirst();
    },
    async findById(tenantId: number, id: number): Promise<UserRow | undefined> {
      return db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
    },
    async count(tenantId: number): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenantId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async list(tenantId: number): Promise<UserRow[]> {
      return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    },
    async countAdmins(tenantId: number, trx: Db = db): Promise<number> {
      const row = await trx
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('role', '=', 'admin')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async update(
      trx: Db,
      tenantId: number,
      id: number,
      changes: Partial<
        Pick<
          UserRow,
          'role' | 'password_hash' | 'failed_logins' | 'locked_until' | 'totp_secret' | 'totp_pending_secret'
        >
      >,
    ): Promise<void> {
      await trx
        .updateTable('users')
        .set(changes)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    /** One more failed login, counted in the database so that parallel attempts all count. */
    async countFailedLogin(trx: Db, tenantId: number, id: number): Promise<number> {
      const row = await trx
        .updateTable('users')
        .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .returning('failed_logins')
        .executeTakeFirstOrThrow();
      return Number(row.failed_logins);
    },
    /** Clears the failure count on a successful login, unless a lockout began meanwhile (then false). */
    async clearFailuresUnlessLocked(trx: Db, tenantId: number, id: number, now: number): Promise<boolean> {
      const row = await trx
        .updateTable('users')
        .set({ failed_logins: 0, locked_until: null })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async deleteSessions(trx: Db, tenantId: number, userId: number, exceptIdHash?: string): Promise<void> {
      let q = trx.deleteFrom('sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId);
      if (exceptIdHash) q = q.where('id_hash', '!=', exceptIdHash);
      await q.execute();
    },
    async insert(
      trx: Db,
      user: {
        tenantId: number;
        username: string;
        passwordHash: string;
        role: 'admin' | 'member';
        now: number;
      },
    ): Promise<number> {
      const row = await trx
        .insertInto('users')
        .values({
          tenant_id: user.tenantId,
          username: user.username,
          password_hash: user.passwordHash,
          role: user.role,
          created_at: user.now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
