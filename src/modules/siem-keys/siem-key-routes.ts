import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import type { Actor } from '../audit/audit-store.js';
import type { Guards } from '../auth/auth-guard.js';
import { ErrorBody } from '../auth/auth-schema.js';
import {
  IssueKeyBody,
  IssuedKeySchema,
  KeyIdParams,
  PollRecordSchema,
  PollTotalsSchema,
  PollsQuery,
  RefusalSchema,
  RefusalsQuery,
  SiemKeySchema,
} from './siem-key-schema.js';

export function actorOf(request: FastifyRequest): Actor {
  return {
    userId: request.user?.userId ?? null,
    username: request.user?.username ?? null,
    ip: request.clientIp,
    userAgent: request.headers['user-agent'] ?? null,
  };
}

export function siemKeyRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
    app.get(
      '/api/admin/siem/keys',
      {
        schema: {
          description:
            "The tenant's SIEM keys, newest first: description, Allowed CIDRs, status, who created and revoked them, last use, and how far each has read the trail (last Seq delivered and the lag). Never the secret.",
          tags: ['siem-keys'],
          summary: 'SIEM keys (never the secret) with last use',
          response: { 200: Type.Array(SiemKeySchema), ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) => ctx.siemKeys.listSiemKeys(request.tenantId),
    );

    app.post(
      '/api/admin/siem/keys',
      {
        schema: {
          description:
            'Issues a key `itp_siem_<id>_<secret>` for this tenant; only a hash of the secret is stored, so `key` in this answer is the only copy. An invalid CIDR is a 400 naming it. Recorded as PolicyChange (SiemKey).',
          tags: ['siem-keys'],
          summary: 'Issue a SIEM key; the plaintext is in this response only',
          body: IssueKeyBody,
          response: { 201: IssuedKeySchema, ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request, reply) => {
        const issued = await ctx.siemKeys.issueSiemKey({
          tenantId: request.tenantId,
          actor: actorOf(request),
          description: request.body.description,
          allowedCidrs: request.body.allowedCidrs ?? '',
        });
        return reply.status(201).send(issued);
      },
    );

    app.delete(
      '/api/admin/siem/keys/:id',
      {
        schema: {
          description:
            'Revokes the key: its next poll, on any node, is a 401. Revoking a revoked key changes nothing. Recorded as PolicyChange (SiemKey).',
          tags: ['siem-keys'],
          summary: 'Revoke a SIEM key; effective on the next request on every node',
          params: KeyIdParams,
          response: { 200: SiemKeySchema, ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) =>
        ctx.siemKeys.revokeSiemKey({
          tenantId: request.tenantId,
          actor: actorOf(request),
          id: request.params.id,
        }),
    );

    app.get(
      '/api/admin/siem/keys/:id/polls',
      {
        schema: {
          description:
            "The key's poll records (audit of the audit): when, from where, events returned, duration, filter, cursor in and out.",
          tags: ['siem-keys'],
          summary: "A key's poll history (audit of the audit), newest first",
          params: KeyIdParams,
          querystring: PollsQuery,
          response: { 200: Type.Array(PollRecordSchema), ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) =>
        ctx.siemKeys.listPolls(
          request.tenantId,
          request.params.id,
          request.query.limit ?? 100,
          request.query.before,
        ),
    );

    app.get(
      '/api/admin/siem/keys/:id/totals',
      {
        schema: {
          tags: ['siem-keys'],
          summary: "A key's totals over all its polls: polls, events delivered, unique and re-read",
          description:
            'Counts over every poll record of the key. Re-read events are events served again to the same key (a retried or earlier cursor): per poll, the overlap of its Seq range with the ranges of earlier polls of the same log, at most its event count (exact for unfiltered polls, an upper bound for filtered ones). uniqueEvents = eventsDelivered - reReadEvents.',
          params: KeyIdParams,
          response: { 200: PollTotalsSchema, ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) => ctx.siemKeys.pollTotals(request.tenantId, request.params.id),
    );

    app.get(
      '/api/admin/siem/keys/:id/refusals',
      {
        schema: {
          tags: ['siem-keys'],
          summary: 'Refused polls naming the key (Access.Denied: bad secret, revoked, address), newest first',
          description:
            'The Access.Denied records whose actor is this key: reason bad_secret, revoked or address_not_allowed. Refusals are throttled per key and reason (the first of a minute in full, then summaries at the 10th, 100th, ...): suppressed counts those not recorded since the record before.',
          params: KeyIdParams,
          querystring: RefusalsQuery,
          response: { 200: Type.Array(RefusalSchema), ...errors },
        },
        onRequest: guards.requireAdmin,
      },
      async (request) =>
        ctx.siemKeys.listRefusals(request.tenantId, request.params.id, request.query.limit ?? 50),
    );
  };
}
