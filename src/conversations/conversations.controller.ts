import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { type Caller, CurrentCaller, OwnerId } from '../access/caller.js';
import { AnswerRoute } from '../access/answer-route.decorator.js';
import { strictValidation } from '../common/request-validation.pipe.js';
import { ConversationIdPipe } from '../common/uuid-param.pipe.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConversationPageSchema, ConversationSchema, ErrorSchema, MessagePageSchema, StreamEventSchema } from '../contract/api-schemas.js';
import { ChatService } from '../chat/chat.service.js';
import { ConversationsService } from './conversations.service.js';
import { CreateConversationDto, ListConversationsQuery, ListMessagesQuery, AnswerFormatQuery, UpdateConversationDto } from './dto/conversation.dto.js';
import { PromptDto } from '../chat/dto/prompt.dto.js';
import type { ConversationJson, MessageJson } from '../contract/api-shapes.js';
import { conversationJson, messageJson } from './message-json.js';
import { assertPromptFits } from '../chat/prompt-limit.js';
import { SeedFormat } from '../chat/seed-format.js';
import type { AnswerStreamFormat } from '../streaming/answer-stream-format.js';
import { DeltaFormat } from './delta-format.js';
import { SameOriginGuard } from '../access/same-origin.guard.js';
import { sendAnswer } from '../streaming/stream-response.js';

const uuid = new ConversationIdPipe();

const STREAM_DESCRIPTION = [
  'Streams application/x-ndjson events, one JSON object per line:',
  '`{"type":"start","conversationId","messageId","userMessage"}` once the prompt is stored;',
  '`{"type":"delta","text"}` with only the new text (at most one per CHAT_DEBOUNCE_MS);',
  'then `{"type":"done","message","usage"}` (the stored message without its text, which the deltas carried) or `{"type":"error","message","messageId"}`, last.',
  'With `?format=full`, the seed format instead (text/plain, every model line the whole text so far).',
].join(' ');

@ApiTags('conversations')
@Controller('api/conversations')
@UsePipes(strictValidation)
@UseGuards(SameOriginGuard)
@ApiBadRequestResponse({ type: ErrorSchema, description: 'Invalid id, body or query' })
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly chat: ChatService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a conversation' })
  @ApiCreatedResponse({ type: ConversationSchema })
  async create(@OwnerId() ownerId: string, @Body() body: CreateConversationDto): Promise<ConversationJson> {
    return conversationJson(await this.conversations.create(ownerId, body.title));
  }

  @Get()
  @ApiOperation({ summary: 'List conversations, newest activity first' })
  @ApiOkResponse({ type: ConversationPageSchema })
  async list(
    @OwnerId() ownerId: string,
    @Query() query: ListConversationsQuery,
  ): Promise<{ items: ConversationJson[]; nextCursor: string | null }> {
    const page = await this.conversations.list(ownerId, query.limit ?? 20, query.cursor);
    return { items: page.items.map(conversationJson), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a conversation' })
  @ApiOkResponse({ type: ConversationSchema })
  @ApiNotFoundResponse({ type: ErrorSchema })
  async get(@OwnerId() ownerId: string, @Param('id', uuid) id: string): Promise<ConversationJson> {
    return conversationJson(await this.conversations.get(id, ownerId));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a conversation' })
  @ApiOkResponse({ type: ConversationSchema })
  @ApiNotFoundResponse({ type: ErrorSchema })
  async rename(@OwnerId() ownerId: string, @Param('id', uuid) id: string, @Body() body: UpdateConversationDto): Promise<ConversationJson> {
    return conversationJson(await this.conversations.rename(id, ownerId, body.title));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a conversation and its messages' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorSchema })
  async delete(@OwnerId() ownerId: string, @Param('id', uuid) id: string): Promise<void> {
    await this.conversations.delete(id, ownerId);
  }

  @Get(':id/messages')
  @ApiOperation({ summary: "A page of the conversation's messages, oldest first; page back with `before`" })
  @ApiOkResponse({ type: MessagePageSchema })
  @ApiNotFoundResponse({ type: ErrorSchema })
  async messages(
    @OwnerId() ownerId: string,
    @Param('id', uuid) id: string,
    @Query() query: ListMessagesQuery,
  ): Promise<{ items: MessageJson[]; nextBefore: number | null }> {
    const page = await this.conversations.messagePage(id, ownerId, query.limit ?? 50, query.before);
    return { items: page.items.map(messageJson), nextBefore: page.nextBefore };
  }

  @Get(':id/stream')
  @ApiOperation({
    summary: 'Reattach to the answer running in the conversation',
    description:
      'The running answer as a delta stream from its beginning: `start`, one `delta` with all the text so far, then the live deltas and `done` or `error`. Any number of readers at once. 204 when no answer is running.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ type: StreamEventSchema, description: 'One event per line' })
  @ApiNoContentResponse({ description: 'No answer is running in this conversation' })
  @ApiNotFoundResponse({ type: ErrorSchema })
  async resume(@OwnerId() ownerId: string, @Param('id', uuid) id: string, @Res() res: Response): Promise<void> {
    await this.conversations.get(id, ownerId);
    const events = await this.chat.runningAnswer(ownerId, id);
    if (!events) return void res.status(204).end();
    sendAnswer(events, new DeltaFormat(), res, this.config.keepAliveMs);
  }

  @Post(':id/stop')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Stop the answer running in the conversation',
    description: 'Aborts the model call and stores the text so far as `interrupted`; every reader sees its stream end. Answers once it is stored; 204 whether or not an answer was running.',
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorSchema })
  async stop(@OwnerId() ownerId: string, @Param('id', uuid) id: string): Promise<void> {
    await this.conversations.get(id, ownerId);
    await this.chat.stopAnswer(ownerId, id);
  }

  @Post(':id/messages')
  @AnswerRoute()
  @ApiOperation({ summary: 'Ask in a conversation; streams the answer', description: STREAM_DESCRIPTION })
  @ApiProduces('application/x-ndjson', 'text/plain')
  @ApiOkResponse({ type: StreamEventSchema, description: 'One event per line' })
  @ApiNotFoundResponse({ type: ErrorSchema })
  post(
    @CurrentCaller() caller: Caller,
    @Param('id', uuid) id: string,
    @Body() body: PromptDto,
    @Query() query: AnswerFormatQuery,
    @Res() res: Response,
  ): void {
    assertPromptFits(body.prompt, this.config.maxPromptChars);
    sendAnswer(this.chat.startAnswer(caller, id, { prompt: body.prompt }, { resumable: true }).events(), formatFor(query), res, this.config.keepAliveMs);
  }

  @Post(':id/regenerate')
  @AnswerRoute()
  @ApiOperation({ summary: 'Replace the last answer with a new one; streams it like POST messages', description: STREAM_DESCRIPTION })
  @ApiProduces('application/x-ndjson', 'text/plain')
  @ApiOkResponse({ type: StreamEventSchema, description: 'One event per line' })
  @ApiNotFoundResponse({ type: ErrorSchema })
  regenerate(@CurrentCaller() caller: Caller, @Param('id', uuid) id: string, @Query() query: AnswerFormatQuery, @Res() res: Response): void {
    sendAnswer(this.chat.startAnswer(caller, id, { regenerate: true }, { resumable: true }).events(), formatFor(query), res, this.config.keepAliveMs);
  }
}

function formatFor(query: AnswerFormatQuery): AnswerStreamFormat {
  return query.format === 'full' ? new SeedFormat() : new DeltaFormat();
}
