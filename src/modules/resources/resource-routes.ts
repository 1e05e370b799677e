import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import type { Guards } from '../auth/auth-guard.js';
import { ErrorBody } from '../auth/auth-schema.js';
import type { Caller } from './resource-service.js';

const IdParams = Type.Object({
  /** The resource's id. */
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'a positive integer id' }),
});
const Name = (description: string, max = 200) => Type.String({ minLength: 1, maxLength: max, description });
const CompanyId = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'an existing company id',
});
const Nullable = Type.Union([Type.String(), Type.Null()]);

const Company = Type.Object({ id: Type.Integer(), name: Type.String(), createdAt: Type.String() });
const DocumentSummary = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  title: Type.String(),
  createdAt: Type.String(),
});
const DocumentFull = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  title: Type.String(),
  body: Type.String(),
  createdAt: Type.String(),
});
const CredentialSummary = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  name: Type.String(),
  username: Type.String(),
  url: Nullable,
  createdAt: Type.String(),
});
const CredentialRevealed = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  name: Type.String(),
  username: Type.String(),
  url: Nullable,
  /** The stored secret, decrypted for this reveal. */
  password: Type.String(),
  createdAt: Type.String(),
});

export function callerOf(request: FastifyRequest): Caller {
  const u = request.user!;
  return {
    userId: u.userId,
    username: u.username,
    role: u.role,
    tenantId: request.tenantId,
    ip: request.clientIp,
    userAgent: request.headers['user-agent'] ?? null,
  };
}

export function resourceRoutes(ctx: AppContext, guards: Guards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
    const auth = { onRequest: guards.requireUser };
    const r = ctx.resources;

    app.get(
      '/api/companies',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'List companies',
          description: 'The companies this tenant documents (needs read access in the ACL).',
          response: { 200: Type.Array(Company), ...errors },
        },
      },
      (req) => r.listCompanies(callerOf(req)),
    );
    app.post(
      '/api/companies',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Create a company',
          description: 'Creates a company (needs write access in the ACL); answers it with its id.',
          body: Type.Object(
            { name: Name('company name, 1 to 200 characters') },
            { additionalProperties: false },
          ),
          response: { 201: Company, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await r.createCompany(callerOf(req), req.body)),
    );
    app.get(
      '/api/companies/:id',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Read a company (Access.Object)',
          description: 'One company, recorded as Access.Object (Target.Type Company).',
          params: IdParams,
          response: { 200: Company, ...errors },
        },
      },
      (req) => r.readCompany(callerOf(req), req.params.id),
    );

    app.get(
      '/api/documents',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'List documents (without bodies)',
          description: "The documents' titles and companies, without their bodies (read access).",
          response: { 200: Type.Array(DocumentSummary), ...errors },
        },
      },
      (req) => r.listDocuments(callerOf(req)),
    );
    app.post(
      '/api/documents',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Create a document',
          description: 'Creates a document of an existing company (write access).',
          body: Type.Object(
            {
              companyId: CompanyId,
              title: Name('title, 1 to 200 characters'),
              body: Type.String({ maxLength: 50_000, description: 'the text, up to 50,000 characters' }),
            },
            { additionalProperties: false },
          ),
          response: { 201: DocumentFull, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await r.createDocument(callerOf(req), req.body)),
    );
    app.get(
      '/api/documents/:id',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Read a document (Access.Object)',
          description: 'One document with its body, recorded as Access.Object (Target.Type Document).',
          params: IdParams,
          response: { 200: DocumentFull, ...errors },
        },
      },
      (req) => r.readDocument(callerOf(req), req.params.id),
    );

    app.get(
      '/api/passwords',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'List stored credentials (never the secret)',
          description: "The stored credentials' names, usernames and URLs; never the secret (read access).",
          response: { 200: Type.Array(CredentialSummary), ...errors },
        },
      },
      (req) => r.listPasswords(callerOf(req)),
    );
    app.post(
      '/api/passwords',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Store a credential (encrypted at rest)',
          description:
            'Stores a credential of an existing company, the secret encrypted at rest (write access); the answer leaves the secret out.',
          body: Type.Object(
            {
              companyId: CompanyId,
              name: Name('what the credential is for, 1 to 200 characters'),
              username: Type.String({
                maxLength: 200,
                description: 'the account name, up to 200 characters',
              }),
              password: Type.String({
                minLength: 1,
                maxLength: 1024,
                description: 'the secret, 1 to 1024 characters',
              }),
              url: Type.Optional(Type.String({ maxLength: 2000, description: 'where it is used' })),
            },
            { additionalProperties: false },
          ),
          response: { 201: CredentialSummary, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(await r.createPassword(callerOf(req), req.body)),
    );
    app.get(
      '/api/passwords/:id',
      {
        ...auth,
        schema: {
          tags: ['portal'],
          summary: 'Reveal a stored credential (Access.Object, warning)',
          description:
            'The credential with its secret, decrypted for this reveal; recorded as Access.Object with severity warning.',
          params: IdParams,
          response: { 200: CredentialRevealed, ...errors },
        },
      },
      (req) => r.revealPassword(callerOf(req), req.params.id),
    );
  };
}
