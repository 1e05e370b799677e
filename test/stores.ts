/**
 * The store matrix: every feed and store suite runs once per entry. Each suite gets a database of its
 * own (a temp directory for SQLite, a fresh database for PostgreSQL), dropped afterwards, so runs and
 * files never see each other's rows.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  kind: StoreKind;
  /** Environment for loadConfig: DATA_DIR and, for PostgreSQL, DATABASE_URL. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export const STORES: readonly StoreKind[] = ['sqlite', 'postgres'];

export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export async function createTestDatabase(kind: StoreKind): Promise<TestDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-test-'));
  if (kind === 'sqlite') {
    return { kind, env: { DATA_DIR: dataDir }, drop: () => fs.rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `itp_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    kind,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    async drop() {
      const c = new pg.Client({ connectionString: adminDatabaseUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
