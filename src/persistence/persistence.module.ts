import { Module } from '@nestjs/common';
import { ConversationRepository } from './conversation.repository.js';
import { HotPathSql } from './hot-path-sql.js';
import { InterruptedAnswers } from './interrupted-answers.js';
import { MessageRepository } from './message.repository.js';
import { MigrationsService } from './migrations.service.js';
import { WriteQueue } from './write-queue.js';

/**
 * The repositories, and the jobs that keep the database fit to use (migrations at start-up,
 * answers a dead instance left streaming). The connection itself is TypeORM's, opened by
 * AppModule (TypeOrmModule.forRoot), so every module that imports this one shares it.
 */
@Module({
  providers: [MigrationsService, WriteQueue, HotPathSql, MessageRepository, ConversationRepository, InterruptedAnswers],
  exports: [MessageRepository, ConversationRepository],
})
export class PersistenceModule {}
