// `npm run migration:run`: applies pending migrations to DATABASE_URL and exits, for deployments
// that migrate as a step of their own. The app also does this at start-up; both take the same lock.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { databaseOptions } from './database-options.js';
import { runMigrations } from './run-migrations.js';

async function main(): Promise<void> {
  const { database } = loadConfig(process.env);
  const dataSource = new DataSource(databaseOptions(database));
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    const where = database.type === 'sqlite' ? database.path : database.url.replace(/:[^:@/]*@/, ':***@');
    console.log(applied.length > 0 ? `Applied ${applied.join(', ')} to ${where}` : `Nothing to apply: ${where} is up to date`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
});
