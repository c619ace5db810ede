import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { ChatModule } from '../chat/chat.module.js';
import { AiSdkController } from './ai-sdk.controller.js';

/** The Vercel AI SDK's chat route (`POST /api/chat`) over the chat domain. */
@Module({
  imports: [ChatModule, AccessModule],
  controllers: [AiSdkController],
})
export class AiSdkModule {}
