import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res, UseGuards, UsePipes } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '../api-docs/openapi-decorators.js';
import type { Response } from 'express';
import { defer, switchMap } from 'rxjs';
import { type Caller, CurrentCaller, OwnerId } from '../access/caller.js';
import { AnswerRoute } from '../access/answer-route.decorator.js';
import { lenientValidation } from '../common/request-validation.pipe.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ChatService, type AnswerSource } from '../chat/chat.service.js';
import { AiSdkChatDto, type UiMessage } from './dto/ai-sdk-chat.dto.js';
import { assertPromptFits } from '../chat/prompt-limit.js';
import { UiMessageStreamFormat } from './ui-message-stream-format.js';
import { SameOriginGuard } from '../access/same-origin.guard.js';
import { sendAnswer } from '../streaming/stream-response.js';

/**
 * The Vercel AI SDK's chat endpoint: `useChat({ transport: new DefaultChatTransport({ api }) })`
 * works against it unchanged. Only the last user message's text is taken from the client; the
 * history always comes from the database. Ids map to stored messages: an answer's message id is
 * its stored id, a prompt keeps the client's id, so a resent prompt id is an edit (a branch) and
 * `regenerate-message` adds a sibling answer.
 */
@ApiTags('ai-sdk')
@Controller('api/chat')
// Lenient: DefaultChatTransport adds whatever `body` the app passes to the request.
@UsePipes(lenientValidation)
@UseGuards(SameOriginGuard)
export class AiSdkController {
  constructor(
    private readonly chat: ChatService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @AnswerRoute()
  @ApiOperation({
    summary: 'AI SDK UI message stream (useChat / DefaultChatTransport)',
    description:
      'Server-sent events: start, text-start, text-delta…, text-end, finish, then [DONE] (or an error part). Header x-vercel-ai-ui-message-stream: v1. The chat id names the conversation, created on first use.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'UI message stream parts, one `data:` event each' })
  chatStream(@CurrentCaller() caller: Caller, @Body() body: AiSdkChatDto, @Res() res: Response): void {
    let source: AnswerSource = { regenerate: true, ...(body.messageId !== undefined && { clientMessageId: body.messageId }) };
    if (body.trigger !== 'regenerate-message') {
      const prompt = lastUserMessage(body.messages);
      source = { prompt: prompt.text, client: { messageId: prompt.id, previousAnswerId: prompt.previousAnswerId } };
      assertPromptFits(prompt.text, this.config.maxPromptChars);
    }
    // Inside the stream, so a failed ownership lookup is answered like any storage failure.
    const events = defer(() => this.chat.conversationForChatId(body.id, caller.ownerId)).pipe(
      switchMap((conversationId) => this.chat.startAnswer(caller, conversationId, source, { createConversation: true, resumable: true }).events()),
    );
    sendAnswer(events, new UiMessageStreamFormat(), res, this.config.keepAliveMs);
  }

  @Get(':id/stream')
  @ApiOperation({
    summary: "Reattach to the chat's running answer (DefaultChatTransport.reconnectToStream, useChat({ resume: true }))",
    description: 'The running answer as a UI message stream from its beginning (start with the same messageId, text-start, the text so far, then the live parts). 204 when nothing is running for the caller in that chat, unknown or foreign chats included.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'UI message stream parts, one `data:` event each' })
  @ApiNoContentResponse({ description: 'Nothing to resume' })
  async resume(@OwnerId() ownerId: string, @Param('id') chatId: string, @Res() res: Response): Promise<void> {
    const events = await this.chat.runningAnswer(ownerId, await this.chat.conversationForChatId(chatId, ownerId));
    if (!events) return void res.status(204).end();
    sendAnswer(events, new UiMessageStreamFormat(), res, this.config.keepAliveMs);
  }

  @Delete(':id/stream')
  @HttpCode(204)
  @ApiOperation({ summary: "Stop the chat's running answer", description: 'Stores the text so far as `interrupted`; 204 whether or not something was running.' })
  @ApiNoContentResponse()
  async stop(@OwnerId() ownerId: string, @Param('id') chatId: string): Promise<void> {
    await this.chat.stopAnswer(ownerId, await this.chat.conversationForChatId(chatId, ownerId));
  }
}

/**
 * The last user message's text, its id, and the id of the assistant message before it: the ids
 * place the prompt in the tree (an id already stored is an edit), the text is all that is taken.
 */
function lastUserMessage(messages: readonly UiMessage[]): { text: string; id?: string; previousAnswerId?: string } {
  const index = messages.findLastIndex((m) => typeof m === 'object' && m !== null && m.role === 'user');
  const last = index >= 0 ? messages[index] : undefined;
  const text = (last?.parts ?? [])
    .filter((part) => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('');
  if (!text.trim()) throw new BadRequestException('messages must end with a user message that has text');
  const previous = messages[index - 1];
  return { text, id: last?.id, previousAnswerId: previous?.role === 'assistant' ? previous.id : undefined };
}
