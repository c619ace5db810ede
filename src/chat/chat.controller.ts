import { Body, Controller, Get, Inject, Post, Res, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '../api-docs/openapi-decorators.js';
import type { Response } from 'express';
import { type Caller, CurrentCaller, OwnerId } from '../access/caller.js';
import { AnswerRoute } from '../access/answer-route.decorator.js';
import { lenientValidation } from '../common/request-validation.pipe.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SeedLineSchema } from '../contract/api-schemas.js';
import { ChatService } from './chat.service.js';
import { defaultConversationId } from './conversation-ids.js';
import { PromptDto } from './dto/prompt.dto.js';
import { sendAnswer, writeChunks } from '../streaming/stream-response.js';
import { assertPromptFits } from './prompt-limit.js';
import { PromptFormInterceptor } from './prompt-form.interceptor.js';
import { SEED_HEADERS, SeedFormat } from './seed-format.js';
import { SameOriginGuard } from '../access/same-origin.guard.js';

/** The seed contract: the original example's page works against these two routes unchanged. */
@ApiTags('seed')
@Controller('chat')
@UsePipes(lenientValidation)
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The default conversation as text/plain ndjson, oldest first (streamed row by row)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ type: SeedLineSchema, description: 'One JSON object per line' })
  async history(@OwnerId() ownerId: string, @Res() res: Response): Promise<void> {
    await writeChunks(res, SEED_HEADERS, this.chat.history(ownerId, defaultConversationId(ownerId)));
  }

  @Post()
  @UseGuards(SameOriginGuard)
  @AnswerRoute()
  @UseInterceptors(PromptFormInterceptor)
  @ApiOperation({
    summary: "Ask in the caller's default conversation; streams the seed format",
    description:
      'Streams text/plain ndjson: the user line at once, then model lines each carrying all the text so far (one timestamp per answer, at most one line per CHAT_DEBOUNCE_MS, the full text last), or a final {"role":"error"} line.',
  })
  @ApiConsumes('multipart/form-data', 'application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: PromptDto })
  @ApiProduces('text/plain')
  @ApiOkResponse({ type: SeedLineSchema, description: 'One JSON object per line' })
  post(@CurrentCaller() caller: Caller, @Body() body: PromptDto, @Res() res: Response): void {
    assertPromptFits(body.prompt, this.config.maxPromptChars);
    const events = this.chat.startAnswer(caller, defaultConversationId(caller.ownerId), { prompt: body.prompt }, { createConversation: true }).events();
    sendAnswer(events, new SeedFormat(), res, this.config.keepAliveMs);
  }
}
