import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import type { Guards } from '../auth/auth-guard.js';
import { ErrorBody } from '../auth/auth-schema.js';
import { parseEventTypes, parseSince } from '../feed/feed-params.js';
import { presentEvent } from '../feed/feed-presenter.js';
import { EventEnvelopeSchema } from '../feed/feed-schema.js';
import { EVENT_TYPE_LIST, OUTCOMES, SEVERITIES } from './event-types.js';

const AuditQuerySchema = Type.Object(
  {
    /** Comma-separated EventTypes or prefixes (Login.*); default all, poll records included. */
    eventType: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'comma-separated EventTypes or prefixes such as Login.*',
      }),
    ),
    /** Comma-separated severities. */
    severity: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'comma-separated: info, warning, critical' }),
    ),
    /** Comma-separated outcomes. */
    outcome: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'comma-separated: success, denied, failure' }),
    ),
    /** Exact username of the actor. */
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "the actor's username" })),
    /** Events at or after this instant. */
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ISO 8601 instant' })),
    /** Events before this instant. */
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ISO 8601 instant' })),
    /** Page size. */
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, description: 'an integer from 1 to 500, default 50' }),
    ),
    /** The previous page's NextPage token. */
    before: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: "the previous response's NextPage" }),
    ),
  },
  { additionalProperties: false },
);

function parseList(raw: string | undefined, allowed: readonly string[], field: string): string[] | null {
  if (raw === undefined) return null;
  const values = raw.split(',').map((s) => s.trim());
  for (const v of values) {
    if (!allowed.includes(v))
      throw new AppError(
        'invalid_request',
        `${field}: "${v.slice(0, 32)}" is not one of ${allowed.join(', ')}`,
      );
  }
  return values;
}

function parseInstant(raw: string | undefined, field: string): number | null {
  if (raw === undefined) return null;
  try {
    return parseSince(raw);
  } catch {
    throw new AppError(
      'invalid_request',
      `${field}: expected an ISO 8601 instant such as 2026-04-25T00:00:00Z`,
    );
  }
}

const ALL_TYPES = new Set(EVENT_TYPE_LIST.map((t) => t.type));

export function auditRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/audit/events',
      {
        schema: {
          tags: ['audit'],
          summary: 'The normalized events for the admin viewer, newest first, with filters and paging',
          description:
            'The same envelopes as the feed (poll records included), newest first, filtered by type, severity, outcome, actor and time; follow NextPage for older events.',
          querystring: AuditQuerySchema,
          response: {
            200: Type.Object({
              Events: Type.Array(EventEnvelopeSchema),
              /** Token for the next (older) page; null on the last page. */
              NextPage: Type.Union([Type.String(), Type.Null()]),
            }),
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
          },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) => {
        const q = request.query;
        const page = await ctx.auditQuery.readAuditPage({
          tenantId: request.tenantId,
          eventTypes: q.eventType === undefined ? ALL_TYPES : parseEventTypes(q.eventType),
          severities: parseList(q.severity, SEVERITIES, 'severity'),
          outcomes: parseList(q.outcome, OUTCOMES, 'outcome'),
          actor: q.actor ?? null,
          from: parseInstant(q.from, 'from'),
          to: parseInstant(q.to, 'to'),
          limit: q.limit ?? 50,
          before: q.before ?? null,
        });
        return { Events: page.events.map(presentEvent), NextPage: page.nextPage };
      },
    );
  };
}
