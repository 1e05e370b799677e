/** The services an app is built from: factories with explicit dependencies, no container. */
import type { Config } from './config.js';
import type { Database } from './db/connect.js';
import type { AuditQueryStore } from './modules/audit/audit-query-store.js';
import type { RefusalThrottle } from './modules/audit/refusal-throttle.js';
import type { AuthService } from './modules/auth/auth-service.js';
import type { ResourceService } from './modules/resources/resource-service.js';
import type { SettingsService } from './modules/settings/settings-service.js';
import type { DataCrypto } from './crypto/data-crypto.js';
import type { ReadAhead } from './modules/feed/feed-read-ahead.js';
import type { HorizonMonitor } from './modules/feed/feed-horizon.js';
import type { FeedResume, FeedService } from './modules/feed/feed-service.js';
import type { Metrics } from './modules/ops/metrics.js';
import type { LogService } from './modules/log/log-service.js';
import type { LogStore } from './modules/log/log-store.js';
import type { Sequencer, SequencerScheduler } from './modules/log/sequencer.js';
import type { RateLimiter } from './modules/siem-keys/rate-limit.js';
import type { SiemKeyService } from './modules/siem-keys/siem-key-service.js';
import type { TenantStore } from './modules/tenants/tenant-store.js';
import type { UserService } from './modules/users/user-service.js';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AppContext {
  config: Config;
  database: Database;
  clock: Clock;
  metrics: Metrics;
  tenants: TenantStore;
  users: UserService;
  settings: SettingsService;
  resources: ResourceService;
  /** Throttles Access.Denied records of repeated refusals (audit/refusal-throttle.ts). */
  refusals: RefusalThrottle;
  dataCrypto: DataCrypto;
  auth: AuthService;
  siemKeys: SiemKeyService;
  feed: FeedService;
  /** The sequenced log: its store, the sequencer, when it runs here, and checkpoints and proofs. */
  logStore: LogStore;
  sequencer: Sequencer;
  sequencing: SequencerScheduler;
  log: LogService;
  /** Who holds the feed's visibility horizon, and for how long. */
  horizon: HorizonMonitor;
  /** Next pages prepared for SIEMs draining a backlog (in this process only). */
  feedReadAhead: ReadAhead<FeedResume>;
  auditQuery: AuditQueryStore;
  rateLimiter: RateLimiter;
  /** Sign-in attempts per client address. */
  loginLimiter: RateLimiter;
  /** HMAC key for feed cursors, shared by every node through the database. */
  cursorKey: Buffer;
  /** HMAC key for CSRF tokens, shared likewise. */
  csrfKey: Buffer;
}
