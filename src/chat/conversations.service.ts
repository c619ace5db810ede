import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ConversationRepository, type ConversationPage, InvalidCursorError } from '../persistence/conversation.repository.js';
import type { ConversationEntity } from '../persistence/conversation.entity.js';
import { MessageRepository, type MessagePage } from '../persistence/message.repository.js';

/** Conversations and their stored messages, with 404s for ids that are not there. */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
  ) {}

  create(title?: string): Promise<ConversationEntity> {
    return this.conversations.create(title?.trim() || null);
  }

  async list(limit: number, cursor?: string): Promise<ConversationPage> {
    try {
      return await this.conversations.list(limit, cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  async get(id: string): Promise<ConversationEntity> {
    return (await this.conversations.find(id)) ?? notFound(id);
  }

  async rename(id: string, title: string): Promise<ConversationEntity> {
    return (await this.conversations.rename(id, title.trim())) ?? notFound(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.conversations.delete(id))) notFound(id);
  }

  async messagePage(id: string, limit: number, before?: number): Promise<MessagePage> {
    await this.get(id);
    return this.messages.page(id, limit, before);
  }
}

function notFound(id: string): never {
  throw new NotFoundException(`Conversation ${id} not found`);
}
