import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { databaseOptions } from './database-options.js';
import { MessageRepository } from './message.repository.js';

@Module({})
export class PersistenceModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [TypeOrmModule.forRoot({ ...databaseOptions(database), retryAttempts: 0 })],
      providers: [MessageRepository],
      exports: [MessageRepository],
    };
  }
}
