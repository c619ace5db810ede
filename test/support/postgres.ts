import { randomBytes } from 'node:crypto';
import pg from 'pg';

// PostgreSQL for the tests and the bench (no jest globals here): fresh databases on an admin login.

/** Where the PostgreSQL runs: an admin URL that may create and drop databases. */
export const postgresAdminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://chat:chat@127.0.0.1:5432/chat';

/** One client for `use`, closed afterwards. */
export async function withPostgres<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database named `<prefix>_<random>`: its name and its URL on the admin login. */
export async function createPostgresDatabase(prefix: string): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withPostgres(postgresAdminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/**
 * Drops a database and whatever is still connected to it (FORCE). An autovacuum worker that
 * happens to be in it cannot be terminated by a login without pg_signal_backend (42501): then
 * wait for the worker to finish, briefly, and try again.
 */
export async function dropPostgresDatabase(name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await withPostgres(postgresAdminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
