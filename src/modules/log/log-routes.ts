/**
 * The log's HTTP surface (SPEC §8): the verifier key (public: it is a public key), checkpoints and
 * RFC 9162 proofs (SIEM key, tenant-scoped, rate-limited like polls), and the admin view of both logs.
 * Hashes are base64, as in checkpoints. Accept: text/plain gives the bare key or note.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import type { Guards } from '../auth/auth-guard.js';
import { AppError } from '../../errors.js';
import { ErrorBody } from '../auth/auth-schema.js';
import { siemKeyGuard } from '../siem-keys/siem-key-guard.js';
import type { LogName } from './log-leaf.js';

const LogParam = Type.Optional(
  Type.Union([Type.Literal('trail'), Type.Literal('polls')], {
    description: 'trail (the default feed, default) or polls (the poll log, Audit.SiemPoll)',
  }),
);
const Seq = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

const wantsText = (request: FastifyRequest) => {
  const accept = request.headers.accept ?? '';
  return /\btext\/plain\b/.test(accept) && !/\bapplication\/json\b/.test(accept);
};

const b64 = (h: Buffer) => h.toString('base64');

export function logRoutes(ctx: AppContext, guards?: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    if (!app.hasRequestDecorator('siemKey')) app.decorateRequest('siemKey', null);
    const siem = siemKeyGuard(ctx);
    const errors = { 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody };

    app.get(
      '/api/siem/log/key',
      {
        schema: {
          tags: ['siem-log'],
          summary: 'The verifier key of the log checkpoints (C2SP signed-note)',
          description:
            'Public: `<name>+<hex key id>+<base64 key>`. Save it as the file `itportal verify --key-file` reads.',
          response: {
            200: Type.Object({
              /** The verifier key, C2SP signed-note form. */
              VerifierKey: Type.String(),
              /** The key name every checkpoint signature line carries. */
              KeyName: Type.String(),
              Algorithm: Type.Literal('Ed25519'),
            }),
          },
        },
      },
      async (request, reply) => {
        if (wantsText(request))
          return reply.type('text/plain; charset=utf-8').send(`${ctx.log.verifierKey}\n` as never);
        return { VerifierKey: ctx.log.verifierKey, KeyName: ctx.log.keyName, Algorithm: 'Ed25519' as const };
      },
    );

    app.get(
      '/api/siem/log/checkpoint',
      {
        schema: {
          tags: ['siem-log'],
          summary: "A checkpoint of the log's current size, signed now",
          description: 'C2SP tlog-checkpoint signed note. SIEM key auth (`Authorization: ApiKey <key>`).',
          security: [{ ApiKey: [] }],
          querystring: Type.Object({ log: LogParam }, { additionalProperties: false }),
          response: {
            200: Type.Object({
              Log: Type.String(),
              Origin: Type.String(),
              Size: Type.Integer(),
              RootHash: Type.String(),
              Checkpoint: Type.String(),
            }),
            ...errors,
          },
        },
        onRequest: siem,
      },
      async (request, reply) => {
        const log: LogName = request.query.log ?? 'trail';
        await ctx.sequencer.catchUp(request.tenantId, log, 1);
        const head = await ctx.log.head(request.tenantId, log);
        if (wantsText(request)) return reply.type('text/plain; charset=utf-8').send(head.checkpoint as never);
        return {
          Log: log,
          Origin: ctx.log.origin(request.tenantId, log),
          Size: head.size,
          RootHash: b64(head.root),
          Checkpoint: head.checkpoint,
        };
      },
    );

    app.get(
      '/api/siem/log/proof/inclusion',
      {
        schema: {
          tags: ['siem-log'],
          summary: 'RFC 9162 inclusion proof of the entry at seq in the tree of size',
          description:
            "The audit path proving that the leaf at `seq` is in the tree of `size` entries (RFC 9162 §2.1.3), with the leaf hash, the root and a checkpoint of that size. SIEM key auth (`Authorization: ApiKey <key>`), this tenant's log only.",
          security: [{ ApiKey: [] }],
          querystring: Type.Object(
            { seq: Seq('the Seq of the entry'), size: Seq('the tree size, above seq'), log: LogParam },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              Log: Type.String(),
              Seq: Type.Integer(),
              Size: Type.Integer(),
              LeafHash: Type.String(),
              RootHash: Type.String(),
              Proof: Type.Array(Type.String()),
              Checkpoint: Type.String(),
            }),
            ...errors,
          },
        },
        onRequest: siem,
      },
      async (request) => {
        const { seq, size } = request.query;
        const log: LogName = request.query.log ?? 'trail';
        const p = await ctx.log.inclusion(request.tenantId, log, seq, size);
        return {
          Log: log,
          Seq: seq,
          Size: size,
          LeafHash: b64(p.leafHash),
          RootHash: b64(p.root),
          Proof: p.proof.map(b64),
          Checkpoint: p.checkpoint,
        };
      },
    );

    app.get(
      '/api/siem/log/proof/inclusions',
      {
        schema: {
          tags: ['siem-log'],
          summary: 'RFC 9162 inclusion proofs of several entries in the tree of size (a filtered page)',
          description:
            "The audit paths of up to 500 entries (`seqs`, comma-separated, ascending) in the tree of `size` entries, with the root and a checkpoint of that size: what `itportal siem pull --event-type` keeps so that `itportal verify` can check a filtered pull's records for inclusion and integrity. SIEM key auth, this tenant's log only; one request for up to 500 entries.",
          security: [{ ApiKey: [] }],
          querystring: Type.Object(
            {
              seqs: Type.String({
                pattern: '^[0-9]{1,16}(,[0-9]{1,16}){0,499}$',
                description: 'the Seqs, comma-separated, at most 500',
              }),
              size: Seq('the tree size, above every seq'),
              log: LogParam,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              Log: Type.String(),
              Size: Type.Integer(),
              RootHash: Type.String(),
              Checkpoint: Type.String(),
              Proofs: Type.Array(
                Type.Object({
                  Seq: Type.Integer(),
                  LeafHash: Type.String(),
                  Proof: Type.Array(Type.String()),
                }),
              ),
            }),
            ...errors,
          },
        },
        onRequest: siem,
      },
      async (request) => {
        const { size } = request.query;
        const seqs = request.query.seqs.split(',').map(Number);
        if (seqs.some((n, i) => !Number.isSafeInteger(n) || (i > 0 && n <= seqs[i - 1]!))) {
          throw new AppError('invalid_request', 'seqs: ascending integers, comma-separated, at most 500');
        }
        const log: LogName = request.query.log ?? 'trail';
        const p = await ctx.log.inclusions(request.tenantId, log, seqs, size);
        return {
          Log: log,
          Size: size,
          RootHash: b64(p.root),
          Checkpoint: p.checkpoint,
          Proofs: p.proofs.map((x) => ({ Seq: x.seq, LeafHash: b64(x.leafHash), Proof: x.proof.map(b64) })),
        };
      },
    );

    app.get(
      '/api/siem/log/proof/consistency',
      {
        schema: {
          tags: ['siem-log'],
          summary: 'RFC 9162 consistency proof between the trees of size from and to',
          description:
            "The proof that the tree of `to` entries extends the tree of `from` entries unchanged (RFC 9162 §2.1.4), with both roots and both checkpoints. SIEM key auth (`Authorization: ApiKey <key>`), this tenant's log only.",
          security: [{ ApiKey: [] }],
          querystring: Type.Object(
            { from: Seq('the smaller tree size'), to: Seq('the larger tree size'), log: LogParam },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              Log: Type.String(),
              From: Type.Integer(),
              To: Type.Integer(),
              FromRootHash: Type.String(),
              ToRootHash: Type.String(),
              Proof: Type.Array(Type.String()),
              FromCheckpoint: Type.String(),
              Checkpoint: Type.String(),
            }),
            ...errors,
          },
        },
        onRequest: siem,
      },
      async (request) => {
        const { from, to } = request.query;
        const log: LogName = request.query.log ?? 'trail';
        const p = await ctx.log.consistency(request.tenantId, log, from, to);
        return {
          Log: log,
          From: from,
          To: to,
          FromRootHash: b64(p.fromRoot),
          ToRootHash: b64(p.toRoot),
          Proof: p.proof.map(b64),
          FromCheckpoint: p.fromCheckpoint,
          Checkpoint: p.toCheckpoint,
        };
      },
    );

    if (guards) {
      const LogView = Type.Object({
        Size: Type.Integer(),
        RootHash: Type.String(),
        LatestEventAt: Type.Union([Type.String(), Type.Null()]),
        Checkpoint: Type.String(),
      });
      app.get(
        '/api/admin/siem/log',
        {
          schema: {
            tags: ['siem-log'],
            summary: 'Both logs of this tenant: head, latest checkpoint, and the verifier key',
            description:
              "For the admin UI: each log's size, root hash, latest event time and a checkpoint signed now, and the verifier key for `itportal verify`.",
            response: {
              200: Type.Object({ VerifierKey: Type.String(), Trail: LogView, Polls: LogView }),
              401: ErrorBody,
              403: ErrorBody,
            },
          },
          onRequest: guards.requireAdmin,
        },
        async (request) => {
          const view = async (log: LogName) => {
            const head = await ctx.log.head(request.tenantId, log);
            return {
              Size: head.size,
              RootHash: b64(head.root),
              LatestEventAt: head.latestAt === null ? null : new Date(head.latestAt).toISOString(),
              Checkpoint: head.checkpoint,
            };
          };
          return { VerifierKey: ctx.log.verifierKey, Trail: await view('trail'), Polls: await view('polls') };
        },
      );
    }
  };
}
