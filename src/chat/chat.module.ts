import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { AgentModule } from '../agent/agent.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { PubSub } from '../redis/pub-sub.js';
import { AnswerRelay } from './answer-relay.js';
import { AnswerRunRegistry } from './answer-run.registry.js';
import { ChatController } from './chat.controller.js';
import { ChatService } from './chat.service.js';
import { ContextReader } from './context-reader.js';
import { InfoController } from './info.controller.js';
import { ModelsController } from './models.controller.js';

/**
 * The chat domain (ChatService, answer runs) and the seed contract's routes (`/chat/`). The
 * other wire formats live in modules of their own that import this one.
 */
@Module({
  imports: [AgentModule, AccessModule, PersistenceModule, RedisModule],
  controllers: [ChatController, InfoController, ModelsController],
  providers: [ChatService, ContextReader, AnswerRunRegistry, AnswerRelay, PubSub],
  exports: [ChatService, AnswerRunRegistry],
})
export class ChatModule {}
