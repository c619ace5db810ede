import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ConversationRepository, type ConversationPage, InvalidCursorError } from '../persistence/conversation.repository.js';
import type { ConversationEntity } from '../persistence/conversation.entity.js';
import { MessageEntity } from '../persistence/message.entity.js';
import { MessageRepository, type MessagePage } from '../persistence/message.repository.js';
import { hasToolParts } from '../agent/answer-parts.js';
import { AnswerRunRegistry } from '../chat/answer-run.registry.js';

/** An owner's conversations and their stored messages, with 404s for ids that are not the owner's. */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly runs: AnswerRunRegistry,
  ) {}

  create(ownerId: string, title?: string): Promise<ConversationEntity> {
    return this.conversations.create(ownerId, title?.trim() || null);
  }

  async list(ownerId: string, limit: number, cursor?: string): Promise<ConversationPage> {
    try {
      return await this.conversations.list(ownerId, limit, cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  async get(id: string, ownerId: string): Promise<ConversationEntity> {
    return (await this.conversations.find(id, ownerId)) ?? notFound(id);
  }

  async rename(id: string, ownerId: string, title: string): Promise<ConversationEntity> {
    return (await this.conversations.rename(id, ownerId, title.trim())) ?? notFound(id);
  }

  async delete(id: string, ownerId: string): Promise<void> {
    if (!(await this.conversations.delete(id, ownerId))) notFound(id);
  }

  /** A page of messages; an answer still running in this process shows all its text so far, not its last checkpoint. */
  async messagePage(id: string, ownerId: string, limit: number, before?: number): Promise<MessagePage> {
    await this.get(id, ownerId);
    const page = await this.messages.page(id, limit, before);
    const run = this.runs.find(id, ownerId);
    const live = run?.reserved?.answer.id;
    if (live === undefined) return page;
    return { ...page, items: page.items.map((m) => (m.id === live && m.status === 'streaming' ? Object.assign(new MessageEntity(), m, { content: run!.text, parts: hasToolParts(run!.parts) ? JSON.stringify(run!.parts) : null }) : m)) };
  }
}

function notFound(id: string): never {
  throw new NotFoundException(`Conversation ${id} not found`);
}
