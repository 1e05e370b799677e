/**
 * Security hardening: the last TOTP time step each user signed in with (a code is accepted once,
 * RFC 6238 §5.2).
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export function migration0004(d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql.raw(`alter table users add column totp_last_step ${d.ddl.bigint}`).execute(db);
    },
  };
}
