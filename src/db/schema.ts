/**
 * Table types for the one query layer (Kysely) over SQLite and PostgreSQL.
 * Times are stored as integer milliseconds since the epoch on both stores, so ordering and range
 * filters behave identically; presenters turn them into ISO 8601 UTC.
 */
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: Generated<number>;
  name: string;
  is_default: number;
  created_at: number;
}

export interface TenantHostsTable {
  hostname: string;
  tenant_id: number;
}

export interface UsersTable {
  id: Generated<number>;
  tenant_id: number;
  username: string;
  password_hash: string;
  role: 'admin' | 'member';
  created_at: number;
  failed_logins: Generated<number>;
  locked_until: number | null;
  /** TOTP secret, encrypted with the data key (see modules/resources/data-crypto.ts). */
  totp_secret: string | null;
  /** A secret being enrolled, not yet confirmed by a code. Encrypted likewise. */
  totp_pending_secret: string | null;
  /** The TOTP time step (unix time / 30 s) of the last accepted sign-in code: each step is accepted once. */
  totp_last_step: number | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value: the cookie itself is never stored. */
  id_hash: string;
  tenant_id: number;
  user_id: number;
  created_at: number;
  expires_at: number;
}

export interface SiemKeysTable {
  /** The public key id, the `<id>` of `itp_siem_<id>_<secret>`. */
  id: string;
  tenant_id: number;
  description: string;
  allowed_cidrs: string;
  /** SHA-256 of the 256-bit secret (hex). */
  secret_hash: string;
  created_by_user_id: number | null;
  created_by_username: string | null;
  created_at: number;
  last_used_at: number | null;
  last_used_from: string | null;
  /** The highest next Seq of the trail this key's cursors reached (0005), and when. */
  delivered_next_seq: number | null;
  delivered_at: number | null;
  revoked_at: number | null;
  revoked_by_username: string | null;
  // 0002 also created denied_recorded_at / denied_suppressed; unused since refusal records are
  // throttled through rate_limits (siem-key-service.ts), so they are left out of this type.
}

export interface RateLimitsTable {
  tenant_id: number;
  bucket: string;
  window_start: number;
  count: number;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
}

/** Columns shared by every source table of the event store. */
export interface EventColumns {
  id: Generated<number>;
  tenant_id: number;
  /** PostgreSQL: the writer's xid8 (pg_current_xact_id()); SQLite: always 0. */
  txid: Generated<number>;
  created_at: number;
  event_type: string | null;
  severity: string | null;
  outcome: string | null;
  user_id: number | null;
  username: string | null;
  client_id: string | null;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON object, camelCase keys, never secrets. */
  details: string | null;
}

/** LogsAdmin also carries the legacy columns that predate the structured tags. */
export interface LogsAdminTable extends EventColumns {
  action: string | null;
  message: string | null;
}

export interface CompaniesTable {
  id: Generated<number>;
  tenant_id: number;
  name: string;
  created_by: number | null;
  created_at: number;
}

export interface DocumentsTable {
  id: Generated<number>;
  tenant_id: number;
  company_id: number;
  title: string;
  body: string;
  created_by: number | null;
  created_at: number;
}

export interface CredentialsTable {
  id: Generated<number>;
  tenant_id: number;
  company_id: number;
  name: string;
  username: string;
  url: string | null;
  /** AES-256-GCM ciphertext of the stored password. */
  secret_ciphertext: string;
  created_by: number | null;
  created_at: number;
}

export interface TenantSettingsTable {
  tenant_id: number;
  name: string;
  /** JSON document. */
  value: string;
  updated_at: number;
}

/** The sequenced log (db/migrations/0005-log.ts, modules/log/). `log`: 0 trail, 1 poll log. */
export interface LogHeadsTable {
  tenant_id: number;
  log: number;
  size: number;
  root: Buffer;
  /** JSON array of base64 hashes: the compact range of the tree of `size` leaves. */
  frontier: string;
  /** JSON `{SourceTable: [txid, id]}`: the last row of each table sequenced. */
  positions: string;
  /** The largest created_at sequenced so far. */
  watermark: number;
  /** created_at of the newest event sequenced (null: none). */
  latest_at: number | null;
  updated_at: number;
}

export interface LogEntriesTable {
  tenant_id: number;
  log: number;
  seq: number;
  event_type: string;
  created_at: number;
  watermark: number;
  /** The source table's index in SOURCE_TABLES. */
  source: number;
  source_id: number;
  /** RFC 8785 canonical JSON of the envelope without Category and Controls (null once purged). */
  leaf: string | null;
  leaf_hash: Buffer;
}

export interface LogNodesTable {
  tenant_id: number;
  log: number;
  level: number;
  idx: number;
  hash: Buffer;
}

export interface DB {
  companies: CompaniesTable;
  documents: DocumentsTable;
  credentials: CredentialsTable;
  tenant_settings: TenantSettingsTable;
  tenants: TenantsTable;
  tenant_hosts: TenantHostsTable;
  users: UsersTable;
  sessions: SessionsTable;
  siem_keys: SiemKeysTable;
  rate_limits: RateLimitsTable;
  log_heads: LogHeadsTable;
  log_entries: LogEntriesTable;
  log_nodes: LogNodesTable;
  server_secrets: ServerSecretsTable;
  logs_login: EventColumns;
  logs_access: EventColumns;
  logs_admin: LogsAdminTable;
  logs_denied: EventColumns;
  logs_siem_poll: EventColumns;
}

export type EventTableName = 'logs_login' | 'logs_access' | 'logs_admin' | 'logs_denied' | 'logs_siem_poll';
