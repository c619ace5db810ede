import type { DataSource } from 'typeorm';

/** Any fixed key: every instance of this app takes the same lock to migrate. */
const MIGRATION_LOCK_KEY = 7_406_311_042;

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL, instances starting
 * together on one database take turns on an advisory lock: the first applies them, the others
 * find nothing left to do (TypeORM itself does not lock).
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  if (dataSource.options.type !== 'postgres') {
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  }
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
