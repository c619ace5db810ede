import { createHash } from 'node:crypto';
import { BadRequestException, Body, Controller, Inject, Post, Res, UseGuards, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { lenientValidation } from '../common/request-validation.pipe.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ChatService, type ReplySource } from './chat.service.js';
import { AiSdkChatDto, type UiMessage } from './dto/ai-sdk-chat.dto.js';
import { assertPromptFits } from './prompt-limit.js';
import { UiMessageStreamFormat } from './reply-formats.js';
import { SameOriginGuard } from './same-origin.guard.js';
import { sendReply } from './stream-response.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Namespace for chat ids that are not UUIDs (useChat's default ids are 16-character strings). */
const CHAT_ID_NAMESPACE = '6f1c3a52-93e4-4c1d-9a5e-0b7d2e4f8a61';

/**
 * The Vercel AI SDK's chat endpoint: `useChat({ transport: new DefaultChatTransport({ api }) })`
 * works against it unchanged. Only the last user message's text is taken from the client; the
 * history always comes from the database.
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
  @ApiOperation({
    summary: 'AI SDK UI message stream (useChat / DefaultChatTransport)',
    description:
      'Server-sent events: start, text-start, text-delta…, text-end, finish, then [DONE] (or an error part). Header x-vercel-ai-ui-message-stream: v1. The chat id names the conversation, created on first use.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'UI message stream parts, one `data:` event each' })
  chatStream(@Body() body: AiSdkChatDto, @Res() res: Response): void {
    const conversationId = conversationIdFor(body.id);
    let source: ReplySource = { regenerate: true };
    if (body.trigger !== 'regenerate-message') {
      source = { prompt: lastUserText(body.messages) };
      assertPromptFits(source.prompt, this.config.maxPromptChars);
    }
    const events = this.chat.reply(conversationId, source, { createConversation: true });
    sendReply(events, new UiMessageStreamFormat(), res, this.config.keepAliveMs);
  }
}

export function conversationIdFor(chatId: string): string {
  if (UUID.test(chatId)) return chatId.toLowerCase();
  return uuidV5(chatId, CHAT_ID_NAMESPACE);
}

function lastUserText(messages: readonly UiMessage[]): string {
  const last = [...messages].reverse().find((m) => typeof m === 'object' && m !== null && m.role === 'user');
  const text = (last?.parts ?? [])
    .filter((part) => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('');
  if (!text.trim()) throw new BadRequestException('messages must end with a user message that has text');
  return text;
}

/** RFC 9562 UUID version 5 (SHA-1, name-based): the same chat id always names the same conversation. */
function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
