import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { AppContext } from '../../app-context.js';
import { AppError } from '../../errors.js';
import { ErrorBody } from '../auth/auth-schema.js';

export function opsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Liveness',
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
          response: { 200: Type.Object({ status: Type.String() }), 503: ErrorBody },
        },
      },
      async () => {
        try {
          await sql`select 1`.execute(ctx.database.db);
        } catch {
          throw new AppError('database_unavailable', 'The database is unreachable; retry later.', {
            'Retry-After': '5',
          });
        }
        return { status: 'ready' };
      },
    );
    app.get(
      '/metrics',
      { schema: { tags: ['ops'], summary: 'Prometheus metrics' } },
      async (_request, reply) => {
        reply.header('Content-Type', ctx.metrics.registry.contentType);
        return ctx.metrics.registry.metrics();
      },
    );
    app.get(
      '/openapi.json',
      { schema: { tags: ['ops'], summary: 'This API document (OpenAPI 3)' } },
      async () => app.swagger(),
    );
  };
}
