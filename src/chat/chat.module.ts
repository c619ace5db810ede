import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AiSdkController } from '../ai-sdk/ai-sdk.controller.js';
import { ChatController } from './chat.controller.js';
import { AnswerRunRegistry } from './answer-run.registry.js';
import { ChatService } from './chat.service.js';
import { ConversationsController } from '../conversations/conversations.controller.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { InfoController } from './info.controller.js';

@Module({
  imports: [AgentModule],
  controllers: [ChatController, ConversationsController, AiSdkController, InfoController],
  providers: [ChatService, ConversationsService, AnswerRunRegistry],
})
export class ChatModule {}
