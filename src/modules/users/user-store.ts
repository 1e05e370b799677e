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
    async findById(tenantId: number, id: number, trx: Db = db): Promise<UserRow | undefined> {
      return trx
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
    /**
     * Serializes the tenant's role changes until the transaction ends (a row lock on PostgreSQL, the
     * write lock on SQLite), so a rule over all its users (at least one admin) holds under concurrency.
     */
    async lockTenantRoles(trx: Db, tenantId: number): Promise<void> {
      await trx
        .updateTable('tenants')
        .set((eb) => ({ name: eb.ref('name') }))
        .where('id', '=', tenantId)
        .execute();
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
          | 'role'
          | 'password_hash'
          | 'failed_logins'
          | 'locked_until'
          | 'totp_secret'
          | 'totp_pending_secret'
          | 'totp_last_step'
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
    /**
     * Accepts a TOTP time step for this user once, atomically across nodes: true when it is later than
     * every step accepted before (RFC 6238 §5.2: a code is not accepted twice).
     */
    async claimTotpStep(trx: Db, tenantId: number, id: number, step: number): Promise<boolean> {
      const row = await trx
        .updateTable('users')
        .set({ totp_last_step: step })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
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
    /** Ends a user's sessions (all, or all but one); answers how many there were. */
    async deleteSessions(trx: Db, tenantId: number, userId: number, exceptIdHash?: string): Promise<number> {
      let q = trx.deleteFrom('sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId);
      if (exceptIdHash) q = q.where('id_hash', '!=', exceptIdHash);
      return Number((await q.executeTakeFirst()).numDeletedRows);
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
