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
} from '../api-docs/openapi-decorators.js';
import type { Response } from 'express';
import { type Caller, CurrentCaller, OwnerId } from '../access/caller.js';
import { AnswerRoute } from '../access/answer-route.decorator.js';
import { strictValidation } from '../common/request-validation.pipe.js';
import { ConversationIdPipe } from '../common/uuid-param.pipe.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConversationPageSchema, ConversationSchema, ErrorSchema, MessagePageSchema, StreamEventSchema } from '../contract/api-schemas.js';
import { ChatService } from '../chat/chat.service.js';
import { ConversationsService } from './conversations.service.js';
import {
  AnswerFormatQuery,
  AskDto,
  CreateConversationDto,
  ListConversationsQuery,
  ListMessagesQuery,
  RegenerateDto,
  UpdateConversationDto,
} from './dto/conversation.dto.js';
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
    return conversationJson(await this.conversations.create(ownerId, body));
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
  @ApiOperation({
    summary: 'Rename a conversation, set its model or system prompt, or switch its active path',
    description:
      'Any of title, model (one of GET /api/models, else 400; null: the default), systemPrompt (null or empty: SYSTEM_PROMPT) and activeMessageId (a message of this conversation, else 404: the active path becomes the path through it, continued down to its newest leaf). A new title moves the conversation to the front of the list; the others do not.',
  })
  @ApiOkResponse({ type: ConversationSchema })
  @ApiNotFoundResponse({ type: ErrorSchema })
  async update(@OwnerId() ownerId: string, @Param('id', uuid) id: string, @Body() body: UpdateConversationDto): Promise<ConversationJson> {
    return conversationJson(await this.conversations.update(id, ownerId, body));
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
  @ApiOperation({
    summary: "A page of the conversation's active path, oldest first; page back with `before`",
    description:
      'Messages form a tree: each has a parentId (null for a first prompt) and siblingIds (the messages with the same parent: edits of a prompt, regenerations of an answer, itself included). The active path runs from a first prompt down to the conversation’s activeMessageId; this lists it, newest page first. `before` (the oldest message of the previous page, nextBefore) lists the messages above it on its path; a message not in this conversation is 404.',
  })
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
  @ApiOperation({
    summary: 'Ask in a conversation (or edit a prompt: a branch); streams the answer',
    description: `The prompt follows parentId (an answer of this conversation; null: a new first prompt; left out: the end of the active path), and the new exchange becomes the active path. Editing a prompt is posting the new text with the edited prompt's parentId: the old prompt and its answers stay, as a sibling branch. ${STREAM_DESCRIPTION}`,
  })
  @ApiProduces('application/x-ndjson', 'text/plain')
  @ApiOkResponse({ type: StreamEventSchema, description: 'One event per line' })
  @ApiNotFoundResponse({ type: ErrorSchema })
  post(
    @CurrentCaller() caller: Caller,
    @Param('id', uuid) id: string,
    @Body() body: AskDto,
    @Query() query: AnswerFormatQuery,
    @Res() res: Response,
  ): void {
    assertPromptFits(body.prompt, this.config.maxPromptChars);
    const source = { prompt: body.prompt, ...(body.parentId !== undefined && { parentId: body.parentId }) };
    sendAnswer(this.chat.startAnswer(caller, id, source, { resumable: true }).events(), formatFor(query), res, this.config.keepAliveMs);
  }

  @Post(':id/regenerate')
  @AnswerRoute()
  @ApiOperation({
    summary: 'A new answer beside an existing one (a branch); streams it like POST messages',
    description: `Answers the prompt of messageId (an answer of this conversation; left out: the last answer of the active path) again. The new answer is a sibling of the old, which stays; it becomes the active path. 409 while an answer is being written in the conversation. ${STREAM_DESCRIPTION}`,
  })
  @ApiProduces('application/x-ndjson', 'text/plain')
  @ApiOkResponse({ type: StreamEventSchema, description: 'One event per line' })
  @ApiNotFoundResponse({ type: ErrorSchema })
  regenerate(
    @CurrentCaller() caller: Caller,
    @Param('id', uuid) id: string,
    @Body() body: RegenerateDto,
    @Query() query: AnswerFormatQuery,
    @Res() res: Response,
  ): void {
    const source = { regenerate: true as const, ...(body.messageId !== undefined && { messageId: body.messageId }) };
    sendAnswer(this.chat.startAnswer(caller, id, source, { resumable: true }).events(), formatFor(query), res, this.config.keepAliveMs);
  }
}

function formatFor(query: AnswerFormatQuery): AnswerStreamFormat {
  return query.format === 'full' ? new SeedFormat() : new DeltaFormat();
}
