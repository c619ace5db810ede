import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { ConversationEntity } from './conversation.entity.js';
import { MessageEntity } from './message.entity.js';
import { migrations } from './migrations/index.js';

export const entities = [ConversationEntity, MessageEntity];

/** TypeORM options for the configured database; migrations run at start-up by MigrationsService. */
export function databaseOptions(database: DatabaseConfig): DataSourceOptions {
  if (database.type === 'postgres') {
    return {
      type: 'postgres',
      url: database.url,
      entities,
      migrations,
      migrationsRun: false,
      synchronize: false,
    };
  }
  mkdirSync(dirname(database.path), { recursive: true });
  return {
    type: 'better-sqlite3',
    database: database.path,
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: true,
    // WAL makes NORMAL durable against application crashes; only an OS crash can lose the last commits.
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    },
  };
}
