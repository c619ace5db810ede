import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { AgentModule } from '../agent/agent.module.js';
import { ChatModule } from '../chat/chat.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ConversationsController } from './conversations.controller.js';
import { ConversationsService } from './conversations.service.js';

/** The REST API (`/api/conversations`): conversations, their messages, and answers as delta streams. */
@Module({
  imports: [ChatModule, AgentModule, AccessModule, PersistenceModule],
  controllers: [ConversationsController],
  providers: [ConversationsService],
})
export class ConversationsModule {}
