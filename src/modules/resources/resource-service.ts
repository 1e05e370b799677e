/**
 * Companies, documents and stored credentials. Reading one is an Access.Object (revealing a
 * credential: warning) written in the same transaction as the read; a refusal by the global ACL is a
 * 403 and an Access.Denied naming the user and the resource. Credential secrets are encrypted at rest
 * and only ever leave through a reveal.
 */
import type { Kysely } from 'kysely';
import { CREDENTIAL_PURPOSE, type DataCrypto } from '../../crypto/data-crypto.js';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { summaryDetails, type RefusalThrottle } from '../audit/refusal-throttle.js';
import { appendEvent, type Actor } from '../audit/audit-store.js';
import type { AclResource, SettingsService } from '../settings/settings-service.js';
import type { ResourceStore } from './resource-store.js';

export interface Caller extends Actor {
  userId: number;
  username: string;
  role: string;
  tenantId: number;
}

const iso = (t: number) => new Date(t).toISOString();
const TARGET: Record<AclResource, string> = {
  companies: 'Company',
  documents: 'Document',
  passwords: 'Password',
};

export function createResourceService(deps: {
  db: Kysely<DB>;
  store: ResourceStore;
  settings: Pick<SettingsService, 'aclAllows'>;
  crypto: DataCrypto;
  clock: { now(): number };
  refusals: RefusalThrottle;
}) {
  const { db, store, settings, crypto, clock, refusals } = deps;

  async function authorize(
    caller: Caller,
    resource: AclResource,
    level: 'read' | 'write',
    target?: { id: number; name?: string | null },
  ) {
    if (await settings.aclAllows(caller.tenantId, caller.role, resource, level)) return;
    const now = clock.now();
    // One member retrying what the ACL refuses must not flood the SIEM (refusal-throttle.ts).
    const admission = await refusals.admit(
      caller.tenantId,
      `acl-denied:${caller.userId ?? 'anonymous'}:${resource}:${level}`,
      now,
    );
    if (admission.record) {
      await appendEvent(
        db,
        caller.tenantId,
        {
          eventType: 'Access.Denied',
          outcome: 'denied',
          actor: caller,
          target: { type: TARGET[resource], id: target?.id ?? null, name: target?.name ?? null },
          details: {
            reason: 'acl',
            resource,
            permission: level,
            role: caller.role,
            ...summaryDetails(admission),
          },
        },
        now,
      );
    }
    throw new AppError('forbidden', `your role may not ${level} ${resource}`);
  }

  async function recordRead(
    trx: Kysely<DB>,
    caller: Caller,
    type: string,
    id: number,
    name: string,
    details: Record<string, unknown>,
    severity?: 'warning',
  ) {
    await appendEvent(
      trx,
      caller.tenantId,
      {
        eventType: 'Access.Object',
        outcome: 'success',
        severity,
        actor: caller,
        target: { type, id, name },
        details,
      },
      clock.now(),
    );
  }

  async function requireCompany(tenantId: number, companyId: number) {
    const company = await store.findCompany(tenantId, companyId);
    if (!company) throw new AppError('invalid_request', `companyId: company ${companyId} does not exist`);
    return company;
  }

  return {
    async listCompanies(caller: Caller) {
      await authorize(caller, 'companies', 'read');
      return (await store.listCompanies(caller.tenantId)).map((c) => ({
        id: c.id,
        name: c.name,
        createdAt: iso(c.created_at),
      }));
    },
    async createCompany(caller: Caller, input: { name: string }) {
      await authorize(caller, 'companies', 'write');
      const now = clock.now();
      const id = await store.insertCompany(db, {
        tenant_id: caller.tenantId,
        name: input.name,
        created_by: caller.userId,
        created_at: now,
      });
      return { id, name: input.name, createdAt: iso(now) };
    },
    async readCompany(caller: Caller, id: number) {
      const company = await store.findCompany(caller.tenantId, id);
      await authorize(caller, 'companies', 'read', company ? { id, name: company.name } : { id });
      if (!company) throw new AppError('not_found', `company ${id} not found`);
      await db
        .transaction()
        .execute((trx) => recordRead(trx, caller, 'Company', id, company.name, { companyId: id }));
      return { id, name: company.name, createdAt: iso(company.created_at) };
    },

    async listDocuments(caller: Caller) {
      await authorize(caller, 'documents', 'read');
      return (await store.listDocuments(caller.tenantId)).map((d) => ({
        id: d.id,
        companyId: d.company_id,
        title: d.title,
        createdAt: iso(d.created_at),
      }));
    },
    async createDocument(caller: Caller, input: { companyId: number; title: string; body: string }) {
      await authorize(caller, 'documents', 'write');
      await requireCompany(caller.tenantId, input.companyId);
      const now = clock.now();
      const id = await store.insertDocument(db, {
        tenant_id: caller.tenantId,
        company_id: input.companyId,
        title: input.title,
        body: input.body,
        created_by: caller.userId,
        created_at: now,
      });
      return { id, companyId: input.companyId, title: input.title, body: input.body, createdAt: iso(now) };
    },
    async readDocument(caller: Caller, id: number) {
      const doc = await store.findDocument(caller.tenantId, id);
      await authorize(caller, 'documents', 'read', doc ? { id, name: doc.title } : { id });
      if (!doc) throw new AppError('not_found', `document ${id} not found`);
      await db
        .transaction()
        .execute((trx) =>
          recordRead(trx, caller, 'Document', id, doc.title, { documentId: id, companyId: doc.company_id }),
        );
      return {
        id,
        companyId: doc.company_id,
        title: doc.title,
        body: doc.body,
        createdAt: iso(doc.created_at),
      };
    },

    async listPasswords(caller: Caller) {
      await authorize(caller, 'passwords', 'read');
      return (await store.listCredentials(caller.tenantId)).map((c) => ({
        id: c.id,
        companyId: c.company_id,
        name: c.name,
        username: c.username,
        url: c.url,
        createdAt: iso(c.created_at),
      }));
    },
    async createPassword(
      caller: Caller,
      input: { companyId: number; name: string; username: string; password: string; url?: string },
    ) {
      await authorize(caller, 'passwords', 'write');
      await requireCompany(caller.tenantId, input.companyId);
      const now = clock.now();
      const id = await store.insertCredential(db, {
        tenant_id: caller.tenantId,
        company_id: input.companyId,
        name: input.name,
        username: input.username,
        url: input.url ?? null,
        secret_ciphertext: crypto.encrypt(input.password, caller.tenantId, CREDENTIAL_PURPOSE),
        created_by: caller.userId,
        created_at: now,
      });
      return {
        id,
        companyId: input.companyId,
        name: input.name,
        username: input.username,
        url: input.url ?? null,
        createdAt: iso(now),
      };
    },
    /** The reveal: the one way a stored secret leaves, always with its warning-level Access.Object. */
    async revealPassword(caller: Caller, id: number) {
      const cred = await store.findCredential(caller.tenantId, id);
      await authorize(caller, 'passwords', 'read', cred ? { id, name: cred.name } : { id });
      if (!cred) throw new AppError('not_found', `password ${id} not found`);
      const password = crypto.decrypt(cred.secret_ciphertext, caller.tenantId, CREDENTIAL_PURPOSE);
      await db
        .transaction()
        .execute((trx) =>
          recordRead(
            trx,
            caller,
            'Password',
            id,
            cred.name,
            { credentialId: id, companyId: cred.company_id, reveal: true },
            'warning',
          ),
        );
      return {
        id,
        companyId: cred.company_id,
        name: cred.name,
        username: cred.username,
        url: cred.url,
        password,
        createdAt: iso(cred.created_at),
      };
    },
  };
}

export type ResourceService = ReturnType<typeof createResourceService>;
