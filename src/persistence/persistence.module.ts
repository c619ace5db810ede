import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { ConversationRepository } from './conversation.repository.js';
import { databaseOptions } from './database-options.js';
import { HotPathSql } from './hot-path-sql.js';
import { InterruptedAnswers } from './interrupted-answers.js';
import { MessageRepository } from './message.repository.js';
import { MigrationsService } from './migrations.service.js';
import { WriteQueue } from './write-queue.js';

@Module({})
export class PersistenceModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [TypeOrmModule.forRoot({ ...databaseOptions(database), retryAttempts: 0 })],
      providers: [MigrationsService, WriteQueue, HotPathSql, MessageRepository, ConversationRepository, InterruptedAnswers],
      exports: [MessageRepository, ConversationRepository],
    };
  }
}
