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
