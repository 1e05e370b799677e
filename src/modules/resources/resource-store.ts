/** SQL for companies, documents and stored credentials. Every query names the tenant. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { CompaniesTable, CredentialsTable, DB, DocumentsTable } from '../../db/schema.js';

type Db = Kysely<DB> | Transaction<DB>;
export type CompanyRow = Selectable<CompaniesTable>;
export type DocumentRow = Selectable<DocumentsTable>;
export type CredentialRow = Selectable<CredentialsTable>;

const LIST_LIMIT = 1000;

export function createResourceStore(db: Kysely<DB>) {
  return {
    listCompanies: (tenantId: number) =>
      db
        .selectFrom('companies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .limit(LIST_LIMIT)
        .execute(),
    findCompany: (tenantId: number, id: number, trx: Db = db) =>
      trx
        .selectFrom('companies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst(),
    async insertCompany(trx: Db, row: Omit<CompanyRow, 'id'>): Promise<number> {
      const r = await trx.insertInto('companies').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    listDocuments: (tenantId: number) =>
      db
        .selectFrom('documents')
        .select(['id', 'tenant_id', 'company_id', 'title', 'created_by', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .limit(LIST_LIMIT)
        .execute(),
    findDocument: (tenantId: number, id: number, trx: Db = db) =>
      trx
        .selectFrom('documents')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst(),
    async insertDocument(trx: Db, row: Omit<DocumentRow, 'id'>): Promise<number> {
      const r = await trx.insertInto('documents').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    /** The list never selects the ciphertext. */
    listCredentials: (tenantId: number) =>
      db
        .selectFrom('credentials')
        .select(['id', 'tenant_id', 'company_id', 'name', 'username', 'url', 'created_by', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .limit(LIST_LIMIT)
        .execute(),
    findCredential: (tenantId: number, id: number, trx: Db = db) =>
      trx
        .selectFrom('credentials')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst(),
    async insertCredential(trx: Db, row: Omit<CredentialRow, 'id'>): Promise<number> {
      const r = await trx.insertInto('credentials').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
  };
}

export type ResourceStore = ReturnType<typeof createResourceStore>;
