/**
 * Installation-wide secrets shared by every node through the database (never in a node's memory
 * alone): generated once, on first use, by whichever node gets there first.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

export async function loadServerSecret(db: Kysely<DB>, name: string): Promise<Buffer> {
  await db
    .insertInto('server_secrets')
    .values({ name, value: crypto.randomBytes(32).toString('base64') })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64');
}
