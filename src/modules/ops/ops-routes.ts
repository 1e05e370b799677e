import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { ErrorBody } from '../auth/auth-schema.js';
import type { HorizonStatus } from '../feed/feed-horizon.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ReadyBody = Type.Object({
  status: Type.String(),
  horizon: Type.Object({
    /** Seconds the oldest running transaction of this database has held the feed back; 0 when none. */
    heldSeconds: Type.Number(),
    /** That transaction, or null. */
    holder: Nullable(
      Type.Object({
        pid: Nullable(Type.Integer()),
        applicationName: Nullable(Type.String()),
        state: Nullable(Type.String()),
        database: Nullable(Type.String()),
        prepared: Type.Boolean(),
        transactionAgeSeconds: Nullable(Type.Number()),
      }),
    ),
  }),
});

export function opsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Liveness',
          description:
            '200 while the process answers; touches no database, needs no tenant, and passes no IP access list.',
          response: { 200: Type.Object({ status: Type.String() }) },
        },
      },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Readiness: the database answers',
          description:
            'Ready while the database answers. `horizon` says whether a running transaction of this database holds the SIEM feed back, for how long and which one (readiness stays true: the feed delays, it loses nothing).',
          response: { 200: ReadyBody, 503: ErrorBody },
        },
      },
      async () => {
        let horizon: HorizonStatus;
        try {
          await sql`select 1`.execute(ctx.database.db);
          horizon = await ctx.horizon.inspect();
        } catch {
          throw new AppError('database_unavailable', 'The database is unreachable; retry later.', {
            'Retry-After': '5',
          });
        }
        return { status: 'ready', horizon };
      },
    );
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics',
          description:
            'Prometheus text exposition: polls by outcome, events served, poll latency, refusals, read-ahead, the feed horizon, last poll per key, process metrics. Needs no tenant and passes no IP access list.',
          produces: ['text/plain'],
          response: { 200: { description: 'Prometheus text format 0.0.4', type: 'string' } },
        },
      },
      async (_request, reply) => {
        reply.header('Content-Type', ctx.metrics.registry.contentType);
        return ctx.metrics.registry.metrics();
      },
    );
    app.get(
      '/openapi.json',
      {
        schema: {
          tags: ['ops'],
          summary: 'This API document (OpenAPI 3)',
          description: "Generated from the routes' own schemas at start; what a client generator reads.",
          response: {
            200: Type.Object({}, { additionalProperties: true, description: 'the OpenAPI 3.0 document' }),
          },
        },
      },
      async () => app.swagger(),
    );
  };
}
