/**
 * Installation-wide secrets shared by every node through the database (never in a node's memory
 * alone): generated once, on first use, by whichever node gets there first.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import { CREDENTIAL_PURPOSE, createDataCrypto } from '../crypto/data-crypto.js';
import type { DB } from './schema.js';

/** The value stored under `name`: `proposed`, unless another node stored one first (then theirs). */
export async function claimServerValue(db: Kysely<DB>, name: string, proposed: string): Promise<string> {
  await db
    .insertInto('server_secrets')
    .values({ name, value: proposed })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}

async function claimBytes(db: Kysely<DB>, name: string, proposed: Buffer): Promise<Buffer> {
  return Buffer.from(await claimServerValue(db, name, proposed.toString('base64')), 'base64');
}

export function loadServerSecret(db: Kysely<DB>, name: string): Promise<Buffer> {
  return claimBytes(db, name, crypto.randomBytes(32));
}

const DATA_KEY_CHECK = 'data_key_check';
const MISMATCH =
  "DATA_KEY does not match the key this database's secrets are encrypted with. Every node on one " +
  'database needs the same DATA_KEY: copy it from a node that works (its DATA_KEY, or ' +
  '<DATA_DIR>/data.key when it has none) and set it here.';

/**
 * Every node must encrypt with the same data key: a node with another one would write ciphertexts the
 * others cannot read (TOTP, stored credentials) and fail to read theirs. The database keeps a check
 * value (an HMAC of a constant under the key: it reveals nothing about the key), written by the first
 * node to start; a node whose key gives another value refuses to start, saying so.
 */
export async function ensureDataKeyMatches(db: Kysely<DB>, dataKey: Buffer): Promise<void> {
  const check = crypto.createHmac('sha256', dataKey).update('itp.data-key-check.v1').digest();
  const existing = await db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', DATA_KEY_CHECK)
    .executeTakeFirst();
  if (!existing) {
    // A database from before the check: the first node may write it only if its key opens a secret
    // already stored, or a node with the wrong key would lock the right ones out.
    const sample = await db
      .selectFrom('credentials')
      .select(['tenant_id', 'secret_ciphertext'])
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (sample) {
      try {
        createDataCrypto(dataKey).decrypt(
          sample.secret_ciphertext,
          Number(sample.tenant_id),
          CREDENTIAL_PURPOSE,
        );
      } catch {
        throw new Error(MISMATCH);
      }
    }
  }
  const stored = await claimBytes(db, DATA_KEY_CHECK, check);
  if (stored.length !== check.length || !crypto.timingSafeEqual(stored, check)) {
    throw new Error(MISMATCH);
  }
}
