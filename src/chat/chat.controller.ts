import { Body, Controller, Get, Inject, Logger, PayloadTooLargeException, Post, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DEFAULT_CONVERSATION_ID } from '../persistence/message.repository.js';
import { ChatService } from './chat.service.js';
import { PromptDto } from './dto/prompt.dto.js';
import { sendChatLines, STREAM_HEADERS } from './ndjson-response.js';
import { PromptFormInterceptor } from './prompt-form.interceptor.js';
import { SameOriginGuard } from './same-origin.guard.js';

/** The seed contract: the original example's page works against these two routes unchanged. */
@Controller('chat')
export class ChatController {
  private readonly logger = new Logger(ChatController.name);

  constructor(
    private readonly chat: ChatService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async history(@Res() res: Response): Promise<void> {
    const lines = await this.chat.history(DEFAULT_CONVERSATION_ID);
    res
      .status(200)
      .set(STREAM_HEADERS)
      .send(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  }

  @Post()
  @UseGuards(SameOriginGuard)
  @UseInterceptors(PromptFormInterceptor)
  post(@Body() body: PromptDto, @Res() res: Response): void {
    if (exceedsChars(body.prompt, this.config.maxPromptChars)) {
      throw new PayloadTooLargeException(`prompt is longer than the limit of ${this.config.maxPromptChars} characters`);
    }
    sendChatLines(this.chat.reply(DEFAULT_CONVERSATION_ID, body.prompt), res, (error) => {
      this.logger.error(`Could not store a prompt: ${String(error)}`);
      res.status(503).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The prompt could not be stored; nothing was sent to the model. Try again.',
      });
    });
  }
}

/** Counts characters (code points), not UTF-16 units, and only when the cheap bound is not enough. */
function exceedsChars(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}
