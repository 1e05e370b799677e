import { Migrator, type MigrationResultSet } from 'kysely';
import type { Database } from './connect.js';
import { allMigrations } from './migrations/index.js';

/** Applies every pending migration; throws with the failing migration's name when one fails. */
export async function migrateToLatest(database: Database, target?: string): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => allMigrations(database.dialect) },
  });
  const result: MigrationResultSet = target
    ? await migrator.migrateTo(target)
    : await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed} failed: ${reason}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
