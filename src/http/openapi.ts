/**
 * The OpenAPI document's conventions, applied to every route by its kind in one place (the
 * @fastify/swagger `transform`), so that a route states only what is its own (summary, description,
 * parameters, success body) and cannot forget the rest:
 * - the kind comes from the guard the route runs (`onRequest`): a guard says what it is with
 *   `declareGuard`; a route with none is public;
 * - session routes carry the Session security requirement, 401, 403 and, when they change state, the
 *   required `X-CSRF-Token` header parameter; SIEM key routes carry ApiKey, 401 with
 *   `WWW-Authenticate: ApiKey` and 429;
 * - every route behind the tenant's IP access list (all but the load balancer's probes) carries the 403
 *   it answers to a refused address and the 503 of an unreachable database;
 * - every 429 and 503 carries `Retry-After`, every error answer (and `default`) the one `{Error,
 *   Message}` body, hoisted to `components.schemas.ErrorBody` for client generators.
 * Only the document changes: requests are validated and answered as the routes say, nothing else.
 * test/openapi.test.ts checks the result against the live server's answers.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import { ERROR_CODES } from '../errors.js';
import { ErrorBody } from '../modules/auth/auth-schema.js';
import { UNGATED_ROUTES } from './request-context.js';

export type RouteAuth = 'session' | 'admin' | 'siem-key';

const GUARDS = new WeakMap<object, RouteAuth>();

/** Marks an onRequest guard with the kind of route it makes (read by the document, nothing else). */
export function declareGuard<T extends object>(auth: RouteAuth, guard: T): T {
  GUARDS.set(guard, auth);
  return guard;
}

export function routeAuth(route: Pick<RouteOptions, 'onRequest'>): RouteAuth | null {
  const hooks = [route.onRequest ?? []].flat() as object[];
  for (const hook of hooks) {
    const auth = GUARDS.get(hook);
    if (auth) return auth;
  }
  return null;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The codes of the errors registry that answer with this status, for the response's description. */
function codesOf(status: number): string {
  return Object.entries(ERROR_CODES)
    .filter(([, s]) => s === status)
    .map(([code]) => `\`${code}\``)
    .join(', ');
}

const RETRY_AFTER = {
  'Retry-After': { type: 'integer', minimum: 0, description: 'seconds to wait before retrying' },
};
const WWW_AUTHENTICATE = {
  'WWW-Authenticate': { type: 'string', enum: ['ApiKey'], description: 'the scheme to authenticate with' },
};

interface ErrorCase {
  /** Why the route answers this status; joined into the response's description. */
  reasons: string[];
  headers?: Record<string, unknown>;
}

function addReason(cases: Map<string, ErrorCase>, status: string, reason: string, headers?: object) {
  const entry = cases.get(status) ?? { reasons: [] };
  if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
  if (headers) entry.headers = { ...entry.headers, ...headers };
  cases.set(status, entry);
}

/** The error answers a route gives, by status, from its kind and what it declares itself. */
function errorCases(schema: FastifySchema, url: string, method: string, auth: RouteAuth | null) {
  const cases = new Map<string, ErrorCase>();
  const declared = Object.keys((schema.response as Record<string, unknown> | undefined) ?? {});
  for (const status of declared) {
    if (/^[45]\d\d$/.test(status)) cases.set(status, { reasons: [] });
  }
  if (schema.querystring || schema.params || schema.body) {
    addReason(
      cases,
      '400',
      `a parameter or the body is malformed (${codesOf(400)}); the message names the field and its valid form`,
    );
  }
  if (auth === 'session' || auth === 'admin') {
    addReason(cases, '401', '`unauthenticated`: no valid session; sign in with POST /api/auth/login');
    if (STATE_CHANGING.has(method)) {
      addReason(cases, '403', '`csrf_failed`: X-CSRF-Token missing or wrong');
    }
    if (auth === 'admin') addReason(cases, '403', '`forbidden`: the user is not an administrator');
  }
  if (auth === 'siem-key') {
    addReason(
      cases,
      '401',
      '`unauthorized`: no key, an unknown, wrong or revoked key, or an address outside its Allowed CIDRs (one answer for every cause)',
      WWW_AUTHENTICATE,
    );
    addReason(cases, '429', "`rate_limited`: over the key's rate limit");
  }
  if (!UNGATED_ROUTES.has(url)) {
    addReason(cases, '403', "`forbidden`: the client address is refused by the tenant's IP access list");
    addReason(cases, '503', `unavailable for now (${codesOf(503)}): retry after Retry-After seconds`);
  }
  for (const [status, entry] of cases) {
    if (status === '429' || status === '503') entry.headers = { ...entry.headers, ...RETRY_AFTER };
  }
  return cases;
}

/** In `content` form, so that it stays JSON also on a route that `produces` another type. */
function errorResponse(description: string, headers?: Record<string, unknown>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: ErrorBody } },
  };
}

const CSRF_HEADER_SCHEMA = {
  type: 'object',
  required: ['X-CSRF-Token'],
  properties: {
    'X-CSRF-Token': {
      type: 'string',
      description: 'the csrfToken of POST /api/auth/login or GET /api/me, for this session',
    },
  },
};

/** GET /api/admin/siem/keys/{id}/polls → getAdminSiemKeysByIdPolls: stable, unique per operation. */
function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\//, '/')
    .split(/[/._-]+/)
    .filter(Boolean)
    .map((w) => (w.startsWith(':') || w.startsWith('{') ? `By${cap(w.replace(/[:{}]/g, ''))}` : cap(w)));
  return method.toLowerCase() + words.join('');
}
const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/** The swagger `transform`: the route's own schema plus what its kind implies (a copy; never mutated). */
export function openapiTransform({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: RouteOptions;
}): { schema: FastifySchema; url: string } {
  if (!schema || (schema as { hide?: boolean }).hide) return { schema, url };
  const method = [route.method].flat()[0]!;
  const auth = routeAuth(route);
  const out: FastifySchema & Record<string, unknown> = { ...schema };
  out.operationId ??= operationIdOf(method, url);
  if ((auth === 'session' || auth === 'admin') && !schema.security) out.security = [{ Session: [] }];
  if (auth === 'siem-key' && !schema.security) out.security = [{ ApiKey: [] }];
  if ((auth === 'session' || auth === 'admin') && STATE_CHANGING.has(method)) {
    const own = (schema.headers ?? { type: 'object', properties: {} }) as typeof CSRF_HEADER_SCHEMA;
    out.headers = {
      ...own,
      required: [...(own.required ?? []), ...CSRF_HEADER_SCHEMA.required],
      properties: { ...own.properties, ...CSRF_HEADER_SCHEMA.properties },
    };
  }
  const response: Record<string, unknown> = { ...(schema.response as Record<string, unknown>) };
  // A success answer is described by what the operation does (not swagger's "Default Response").
  for (const [status, body] of Object.entries(response)) {
    const own = body as { description?: string };
    if (/^2\d\d$/.test(status) && !own.description && schema.summary) {
      response[status] = { ...own, description: schema.summary };
    }
  }
  for (const [status, entry] of errorCases(schema, url, method, auth)) {
    const description =
      entry.reasons.length > 0 ? entry.reasons.join('; ') : `\`Error\` is one of ${codesOf(Number(status))}`;
    response[status] = errorResponse(`${description}.`, entry.headers);
  }
  response.default = errorResponse(
    'Any other error, e.g. `internal_error` (500), which carries only the request id.',
  );
  out.response = response;
  return { schema: out, url };
}

/**
 * The swagger `transformObject`: the one error body as a named component (`ErrorBody`), referenced by
 * every error answer, so a client generator makes one type of it rather than one per response.
 */
export function hoistErrorBody(document: object) {
  // Only OpenAPI 3 documents are generated here (app.ts); a Swagger 2 one passes through.
  if (!('openapiObject' in document))
    return (document as { swaggerObject: Record<string, any> }).swaggerObject;
  const openapiObject = document.openapiObject as Record<string, any>;
  const isErrorBody = (s: any) =>
    s?.type === 'object' &&
    JSON.stringify(Object.keys(s.properties ?? {}).sort()) === '["Error","Message"]' &&
    JSON.stringify([...(s.required ?? [])].sort()) === '["Error","Message"]';
  let sample: unknown = null;
  for (const item of Object.values<Record<string, any>>(openapiObject.paths ?? {})) {
    for (const op of Object.values<any>(item)) {
      for (const response of Object.values<any>(op.responses ?? {})) {
        const media = response.content?.['application/json'];
        if (media && isErrorBody(media.schema)) {
          sample ??= media.schema;
          media.schema = { $ref: '#/components/schemas/ErrorBody' };
        }
      }
    }
  }
  if (sample) {
    openapiObject.components ??= {};
    openapiObject.components.schemas = {
      ...openapiObject.components.schemas,
      ErrorBody: { ...(sample as object), description: 'Every error answer: a stable code and what to fix.' },
    };
  }
  return openapiObject;
}
