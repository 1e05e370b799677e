/**
 * The digest of one output line that `itportal siem pull` keeps in FILE.digests and `itportal verify`
 * recomputes to name an altered record: the first 8 bytes of SHA-256 of the line's UTF-8 bytes
 * (without its newline). 8 bytes tell one line from another; the proof itself is the signed tree.
 */
import crypto from 'node:crypto';

export const DIGEST_BYTES = 8;

export function lineDigest(line: string | Buffer): Buffer {
  return crypto.createHash('sha256').update(line).digest().subarray(0, DIGEST_BYTES);
}
