/**
 * Every environment variable the service reads, parsed and validated in one place.
 * Nothing else in src/ reads process.env.
 */
import path from 'node:path';
import { parseCidrs } from './http/ip.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL; when undefined the embedded SQLite file `<dataDir>/itportal.db` is used. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** CIDRs whose X-Forwarded-For header is believed. Empty: the socket peer is the client. */
  trustedProxies: string[];
  adminUsername: string | undefined;
  adminPassword: string | undefined;
  logLevel: string;
  /** Polls per key per minute before a 429. */
  siemRateLimitPerMinute: number;
  /** Sign-in attempts per client address per minute before a 429 (before any password hashing). */
  loginRateLimitPerMinute: number;
  /** Session lifetime in minutes. */
  sessionTtlMinutes: number;
  /** Prepare the next feed page while a draining SIEM reads this one (SIEM_READ_AHEAD, default on). */
  siemReadAhead: boolean;
  /**
   * Seconds the feed's visibility horizon may be held by one transaction before the log warns, naming
   * it (FEED_HORIZON_WARN_SECONDS, default 60).
   */
  feedHorizonWarnSeconds: number;
  /** How soon after a request the sequencer runs for its tenant (ms). */
  sequencerTickMs: number;
  /** How often every tenant is checked for events no request woke the sequencer for (ms). */
  sequencerSweepMs: number;
  /** Mark the session cookie `Secure` (set when served over HTTPS). */
  cookieSecure: boolean;
  /** Base64 32-byte key for secrets at rest; when unset, `<dataDir>/data.key` (generated). */
  dataKey: string | undefined;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite store)',
    );
  }
  let trustedProxies: string[];
  try {
    trustedProxies = parseCidrs(env.TRUSTED_PROXIES ?? '', 'TRUSTED_PROXIES');
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    databaseUrl,
    redisUrl: env.REDIS_URL?.trim() || undefined,
    trustedProxies,
    adminUsername: env.ADMIN_USERNAME?.trim() || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    logLevel,
    siemRateLimitPerMinute: integer(env, 'SIEM_RATE_LIMIT_PER_MINUTE', 120, 1, 100000),
    loginRateLimitPerMinute: integer(env, 'LOGIN_RATE_LIMIT_PER_MINUTE', 300, 1, 100000),
    sessionTtlMinutes: integer(env, 'SESSION_TTL_MINUTES', 480, 1, 525600),
    siemReadAhead: flag(env, 'SIEM_READ_AHEAD', true),
    feedHorizonWarnSeconds: integer(env, 'FEED_HORIZON_WARN_SECONDS', 60, 1, 86400),
    sequencerTickMs: integer(env, 'SEQUENCER_TICK_MS', 20, 1, 60_000),
    sequencerSweepMs: integer(env, 'SEQUENCER_SWEEP_MS', 1000, 10, 3_600_000),
    cookieSecure: env.COOKIE_SECURE === 'true' || env.COOKIE_SECURE === '1',
    dataKey: env.DATA_KEY?.trim() || undefined,
  };
}
