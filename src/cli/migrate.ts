/** `itportal migrate`: apply pending migrations and report them. */
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';

export async function migrate(): Promise<number> {
  const config = loadConfig();
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(database);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
    console.log(`store: ${database.location}`);
    return 0;
  } finally {
    await database.close();
  }
}
