/**
 * The PostgreSQL suite is not optional: when the server is unreachable the whole run fails with the
 * command that starts it, instead of quietly testing SQLite alone.
 */
import pg from 'pg';
import { adminDatabaseUrl } from './stores.js';

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable at ${adminDatabaseUrl()} (${(err as Error).message}). ` +
        'The PostgreSQL suite must run: start it with ' +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set TEST_DATABASE_URL.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
