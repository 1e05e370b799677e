/**
 * Opens the one query layer (Kysely) over the embedded SQLite file or PostgreSQL, and translates
 * driver failures that mean "the database is not there" into AppError(database_unavailable) at the
 * driver boundary, so that no route or service ever sees a driver error type.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { AppError } from '../errors.js';
import { postgresAdapter, sqliteAdapter, type DialectAdapter } from './dialect.js';
import type { DB } from './schema.js';

export interface Database {
  db: Kysely<DB>;
  dialect: DialectAdapter;
  /** Human-readable location with any password removed, for logs. */
  location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** PostgreSQL application_name of every connection of the pool (set at connect, never later). */
  applicationName?: string;
}

/**
 * Every driver failure leaves the store as an AppError (the error handler turns it into `{Error,
 * Message}`), so a fault is a 503 with Retry-After or a named 4xx, never a 500 with a driver message:
 * - unavailable (503 `database_unavailable`): the connection is lost, refused or reset, the server is
 *   shutting down, starting up or out of connections, a client is no longer queryable (what pg says
 *   after a connection error, also from a ROLLBACK on a dead connection), and SQLite busy/IO/full;
 * - transient (503 `database_unavailable`): serialization failure, deadlock, lock or statement timeout,
 *   out of memory or disk (class 53), system errors (class 58): retrying later can succeed;
 * - conflict (409 `conflict`): a unique violation, e.g. two concurrent creations of one name;
 * - unstorable text (400 `invalid_request`): a NUL character or invalid encoding PostgreSQL refuses.
 * Anything else (a syntax error is a bug) is rethrown as is and becomes a 500 carrying the request id.
 * The driver's code is kept as the AppError's cause (for the log), never in the response.
 */
const PG_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '3D000', // database does not exist
  '57P04', // database_dropped
  '25006', // read_only_sql_transaction (a failover left us on a standby)
]);

const PG_TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
]);

const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|connection is not open|Client was closed|not queryable|Cannot use a pool after calling end|Connection reset|socket hang up|database is locked/i;

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const code = codeOf(err);
  const message = (err as { message?: unknown }).message;
  // Class 08: connection; class 28: authorization (a rotated database password).
  if (PG_UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('28')) return true;
  if (/^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL|NOMEM|READONLY|CORRUPT|NOTADB)/.test(code))
    return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

function isTransientError(code: string): boolean {
  return PG_TRANSIENT_CODES.has(code) || code.startsWith('53') || code.startsWith('58');
}

export function translateDriverError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = codeOf(err);
  if (isUnavailableError(err) || isTransientError(code)) {
    return new AppError(
      'database_unavailable',
      'The database is unreachable; retry later.',
      { 'Retry-After': '5' },
      { cause: err, driverCode: code || null },
    );
  }
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new AppError(
      'conflict',
      'already exists: that name or value is taken',
      {},
      { cause: err, driverCode: code },
    );
  }
  if (code === '22021' || code === '22P05') {
    return new AppError(
      'invalid_request',
      'text: contains a NUL character or bytes that are not UTF-8',
      {},
      { cause: err, driverCode: code },
    );
  }
  return err;
}

function translate(err: unknown): never {
  throw translateDriverError(err);
}

class TranslatingConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (err) {
      return translate(err);
    }
  }
  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      translate(err);
    }
  }
}

class TranslatingDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  private unwrap(c: DatabaseConnection): DatabaseConnection {
    return c instanceof TranslatingConnection ? c.inner : c;
  }
  async init(): Promise<void> {
    try {
      await this.inner.init();
    } catch (err) {
      translate(err);
    }
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    try {
      return new TranslatingConnection(await this.inner.acquireConnection());
    } catch (err) {
      return translate(err);
    }
  }
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    try {
      await this.inner.beginTransaction(this.unwrap(c), settings);
    } catch (err) {
      translate(err);
    }
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(this.unwrap(c));
    } catch (err) {
      translate(err);
    }
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    // A ROLLBACK on a connection that died ("not queryable") must not replace the error that made the
    // transaction fail with a raw driver error: the server rolls a dead session back by itself.
    try {
      await this.inner.rollbackTransaction(this.unwrap(c));
    } catch (err) {
      translate(err);
    }
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(this.unwrap(c));
    } catch (err) {
      translate(err);
    }
  }
  async destroy(): Promise<void> {
    await this.inner.destroy();
  }
}

function translatingDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: () => new TranslatingDriver(inner.createDriver()),
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

// int8 and xid8 come back as numbers: ids, times and xids all stay far below 2^53.
const PG_INT8 = 20;
const PG_XID8 = 5069;
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === PG_INT8 || oid === PG_XID8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * The pool as Kysely sees it, with clients whose `query(text, values)` runs pg's callback form.
 * pg 8's promise form (`await client.query(...)`, what Kysely calls) costs far more CPU on large
 * results: 6,000 feed-like rows took 17.5 ms of CPU against 12.1 ms (bench/pg-query-form.ts,
 * docs/benchmarks.md), and the feed reads such results on every page. Same queries, same results.
 */
function callbackQueryPool(pool: pg.Pool) {
  type Client = {
    query(text: string, values: unknown[]): Promise<pg.QueryResult>;
    release(err?: Error | boolean): void;
  };
  const clients = new WeakMap<pg.PoolClient, Client>();
  return {
    async connect(): Promise<Client> {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = {
          query: (text, values) =>
            new Promise((resolve, reject) => {
              client.query(text, values, (err: Error | null, result: pg.QueryResult) =>
                err ? reject(err) : resolve(result),
              );
            }),
          release: (err) => client.release(err),
        };
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  } as unknown as pg.Pool;
}

/**
 * Creates the data directory 0700 when it does not exist (it holds the database and data.key). An
 * existing directory keeps its mode: it may be shared (DATA_DIR=/srv), and is the operator's to set.
 */
export function restrictDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      types: pgTypes as pg.CustomTypesConfig,
    });
    // A client losing its server (idle in the pool, or checked out between queries) must not crash
    // the process with an unhandled 'error' event: the next query on it fails and is translated.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<DB>({
      dialect: translatingDialect(new PostgresDialect({ pool: callbackQueryPool(pool) })),
    });
    return {
      db,
      dialect: postgresAdapter,
      location: redactUrl(options.databaseUrl),
      close: () => db.destroy(),
    };
  }
  // The data directory and the database are the operator's alone (0700 / 0600, whatever the umask);
  // SQLite gives its -wal and -shm files the database file's mode.
  restrictDataDir(options.dataDir);
  const file = path.join(options.dataDir, 'itportal.db');
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<DB>({ dialect: translatingDialect(new SqliteDialect({ database })) });
  return { db, dialect: sqliteAdapter, location: file, close: () => db.destroy() };
}
