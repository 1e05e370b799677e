/**
 * One rule for text on both stores: PostgreSQL cannot store U+0000 in text, SQLite can. Rather than
 * a 500 on one store and a stored NUL on the other, every request is checked before validation:
 * a NUL anywhere in the body, the query or the path parameters is a 400 naming the field.
 *
 * Routes that must record the attempt whatever it contains (the sign-in: every failed attempt is a
 * Login.Failure) set `config: { nul: 'replace' }`: their NULs become U+FFFD, so the attempt fails as
 * any wrong username or password does, and is recorded.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'replace': NUL characters become U+FFFD instead of a 400. */
    nul?: 'replace';
  }
}

const NUL = '\u0000';

/** The path of the first string holding a NUL, or null; with `replace`, fixes them in place instead. */
function scan(value: unknown, path: string, replace: boolean): string | null {
  if (!value || typeof value !== 'object') return null;
  const list = Array.isArray(value);
  const container = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(container)) {
    const name = k.replaceAll(NUL, '\\0');
    const field = list ? `${path}[${k}]` : path ? `${path}.${name}` : name;
    if (k.includes(NUL)) return field;
    if (typeof v === 'string' && v.includes(NUL)) {
      if (!replace) return field;
      container[k] = v.replaceAll(NUL, '\uFFFD');
    } else {
      const found = scan(v, field, replace);
      if (found) return found;
    }
  }
  return null;
}

export function installTextRules(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const replace = request.routeOptions.config?.nul === 'replace';
    for (const part of ['body', 'query', 'params'] as const) {
      const value: unknown = request[part];
      const found =
        typeof value === 'string'
          ? value.includes(NUL) && !replace
            ? part
            : null
          : scan(value, '', replace);
      if (found) {
        throw new AppError(
          'invalid_request',
          `${found.slice(0, 100)}: contains a NUL character (U+0000), which the portal does not store`,
        );
      }
    }
  });
}
