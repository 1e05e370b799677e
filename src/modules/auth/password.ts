/**
 * Password hashing: scrypt (N=2^15, r=8, p=3, 32-byte salt), stored as
 * `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`, verified in constant time. Hashes keep their parameters,
 * so older ones (p=1) still verify.
 *
 * Parameters: OWASP's Password Storage Cheat Sheet lists N=2^17, r=8, p=1 (128 MiB a hash) and, as
 * equal in cost, N=2^15, r=8, p=3 (32 MiB): we take the latter, a quarter of the memory for the same
 * work. At most HASHES_AT_ONCE hashes run at once (they use libuv's pool, which gzip of feed pages
 * needs too), and at most QUEUE_LIMIT wait: past that a sign-in flood gets 503 server_busy with
 * Retry-After instead of exhausting memory or starving the feed.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { AppError } from '../../errors.js';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

const N = 32768;
const R = 8;
const P = 3;
const KEY_LENGTH = 32;
const MAXMEM = 64 * 1024 * 1024;
const HASHES_AT_ONCE = 2;
const QUEUE_LIMIT = 64;

let running = 0;
const waiting: Array<() => void> = [];

/** Runs `work` when one of the HASHES_AT_ONCE slots is free; refuses when too many already wait. */
async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= HASHES_AT_ONCE) {
    if (waiting.length >= QUEUE_LIMIT) {
      throw new AppError('server_busy', 'too many sign-ins at once; retry in a moment', {
        'Retry-After': '2',
      });
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(32);
  const hash = await limited(() => scrypt(password, salt, KEY_LENGTH, { N, r: R, p: P, maxmem: MAXMEM }));
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts;
  const expected = Buffer.from(hashB64!, 'base64');
  const actual = await limited(() =>
    scrypt(password, Buffer.from(saltB64!, 'base64'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: MAXMEM,
    }),
  );
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

/** A hash of nothing, verified against when the user does not exist, so timing does not tell. */
let dummyHash: Promise<string> | null = null;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return dummyHash;
}

/** A generated password: 24 chars from an unambiguous alphabet (~140 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.randomBytes(24);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
