/**
 * Encryption at rest for stored credentials and TOTP secrets: AES-256-GCM, a fresh 96-bit IV per
 * value, and the tenant and purpose as associated data, so a ciphertext copied to another tenant or
 * column does not decrypt. Stored as `v1:<iv>:<tag>:<ciphertext>` (base64).
 *
 * The key: `DATA_KEY` (32 bytes, base64) when set — required when several nodes share a PostgreSQL —
 * otherwise `<DATA_DIR>/data.key`, generated on first use with mode 0600. Losing it loses the stored
 * secrets; it is never in the database, so a database dump alone reveals none.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The purpose (associated data) stored credentials are encrypted under. */
export const CREDENTIAL_PURPOSE = 'credential';

export interface DataCrypto {
  encrypt(plaintext: string, tenantId: number, purpose: string): string;
  decrypt(stored: string, tenantId: number, purpose: string): string;
}

export function loadDataKey(dataKey: string | undefined, dataDir: string): Buffer {
  if (dataKey) {
    const key = Buffer.from(dataKey, 'base64');
    if (key.length !== 32)
      throw new Error('DATA_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    return key;
  }
  const file = path.join(dataDir, 'data.key');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

export function createDataCrypto(key: Buffer): DataCrypto {
  const aad = (tenantId: number, purpose: string) => Buffer.from(`itp.v1|${tenantId}|${purpose}`);
  return {
    encrypt(plaintext, tenantId, purpose) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(tenantId, purpose));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        'v1',
        iv.toString('base64'),
        cipher.getAuthTag().toString('base64'),
        ct.toString('base64'),
      ].join(':');
    },
    decrypt(stored, tenantId, purpose) {
      const [v, iv, tag, ct] = stored.split(':');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown ciphertext format');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(aad(tenantId, purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
