/**
 * CSRF protection for the cookie-authenticated API: a synchronizer token bound to the session,
 * HMAC-SHA256(installation secret, SHA-256(session id)), given out by login and GET /api/me and required
 * as `X-CSRF-Token` on every state-changing request made with a session. Nothing to store: any node
 * derives the same token. (The cookie is also SameSite=Strict; this is the second lock.)
 */
import crypto from 'node:crypto';
import { hashSessionId } from './auth-service.js';

export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(key: Buffer, sessionId: string): string {
  return crypto
    .createHmac('sha256', key)
    .update(`itp.csrf|${hashSessionId(sessionId)}`)
    .digest('base64url');
}

export function csrfTokenValid(
  key: Buffer,
  sessionId: string,
  given: string | string[] | undefined,
): boolean {
  if (typeof given !== 'string' || given.length > 128) return false;
  const expected = Buffer.from(csrfTokenFor(key, sessionId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
