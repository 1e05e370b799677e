/**
 * SIEM key format: `itp_siem_<id>_<secret>`.
 * - `itp_siem_` makes a leaked key greppable by secret scanners.
 * - `<id>`: 16 hex chars, public; it names the key in the admin UI, in poll records and in events.
 * - `<secret>`: 64 hex chars = 256 bits from the CSPRNG. Only its SHA-256 is stored: with 256 bits of
 *   entropy a slow hash adds nothing, and a fast one keeps every poll cheap. Compared in constant time.
 */
import crypto from 'node:crypto';

export const SIEM_KEY_PREFIX = 'itp_siem_';
// The id's shape decides that a key is named; the secret part is whatever follows (at most 256
// characters): one cut short or with a character too many is a wrong secret for a real key (a
// refusal recorded against it), not a malformed header. Only 64 hex characters can ever match.
const KEY_PATTERN = /^itp_siem_([0-9a-f]{16})_(\S{0,256})$/;

export interface GeneratedSiemKey {
  id: string;
  plaintext: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateSiemKey(): GeneratedSiemKey {
  const id = crypto.randomBytes(8).toString('hex');
  const secret = crypto.randomBytes(32).toString('hex');
  return { id, plaintext: `${SIEM_KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseSiemKey(raw: string): { id: string; secret: string } | null {
  const m = KEY_PATTERN.exec(raw);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && crypto.timingSafeEqual(given, stored);
}
