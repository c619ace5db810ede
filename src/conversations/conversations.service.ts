import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ConversationRepository, type ConversationPage, InvalidCursorError } from '../persistence/conversation.repository.js';
import type { ConversationEntity } from '../persistence/conversation.entity.js';
import { MessageRepository, type MessagePage } from '../persistence/message.repository.js';

/** An owner's conversations and their stored messages, with 404s for ids that are not the owner's. */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
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

  async messagePage(id: string, ownerId: string, limit: number, before?: number): Promise<MessagePage> {
    await this.get(id, ownerId);
    return this.messages.page(id, limit, before);
  }
}

function notFound(id: string): never {
  throw new NotFoundException(`Conversation ${id} not found`);
}
