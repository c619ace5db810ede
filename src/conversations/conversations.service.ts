import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ModelCatalog } from '../agent/model-catalog.service.js';
import { ConversationRepository, type ConversationPage, InvalidCursorError } from '../persistence/conversation.repository.js';
import type { ConversationEntity } from '../persistence/conversation.entity.js';
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
    private readonly models: ModelCatalog,
  ) {}

  async create(ownerId: string, fields: { title?: string; model?: string; systemPrompt?: string } = {}): Promise<ConversationEntity> {
    if (fields.model !== undefined) await this.assertOffered(fields.model);
    return this.conversations.create(ownerId, fields.title?.trim() || null, { model: fields.model ?? null, systemPrompt: fields.systemPrompt?.trim() ? fields.systemPrompt : null });
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

  /**
   * Renames, sets the model or system prompt, and switches the active path, as given. The
   * conversation and the message are checked first, so a refused change changes nothing.
   */
  async update(
    id: string,
    ownerId: string,
    changes: { title?: string; model?: string | null; systemPrompt?: string | null; activeMessageId?: number },
  ): Promise<ConversationEntity> {
    const { title, model, systemPrompt, activeMessageId } = changes;
    if ([title, model, systemPrompt, activeMessageId].every((value) => value === undefined)) {
      throw new BadRequestException('Nothing to change: send title, model, systemPrompt or activeMessageId');
    }
    await this.get(id, ownerId);
    if (model !== undefined && model !== null) await this.assertOffered(model);
    if (activeMessageId !== undefined && (await this.messages.activate(id, activeMessageId)) === null) {
      throw new NotFoundException(`Message ${activeMessageId} not found in conversation ${id}`);
    }
    const updated = await this.conversations.update(id, ownerId, {
      title: title?.trim(),
      model,
      systemPrompt: systemPrompt === undefined ? undefined : systemPrompt?.trim() ? systemPrompt : null,
    });
    return updated ?? notFound(id);
  }

  private async assertOffered(model: string): Promise<void> {
    if (!(await this.models.allows(model))) {
      throw new BadRequestException(`model ${JSON.stringify(model)} is not one this server offers: see GET /api/models`);
    }
  }

  async delete(id: string, ownerId: string): Promise<void> {
    if (!(await this.conversations.delete(id, ownerId))) notFound(id);
  }

  /**
   * A page of the active path (or of the path above `before`); an answer still running in this
   * process shows all its text so far, not its last checkpoint.
   */
  async messagePage(id: string, ownerId: string, limit: number, before?: number): Promise<MessagePage> {
    // The owner check alone, in plain SQL: a page is read often (every open tab), and needs no conversation entity.
    if (!(await this.conversations.owns(id, ownerId))) notFound(id);
    const page = await this.messages.page(id, limit, before);
    if (!page) throw new NotFoundException(`Message ${before} not found in conversation ${id}`);
    const run = this.runs.find(id, ownerId);
    const live = run?.reserved?.answer.id;
    if (live === undefined) return page;
    return { ...page, items: page.items.map((m) => (m.id === live && m.status === 'streaming' ? { ...m, content: run!.text, parts: hasToolParts(run!.parts) ? JSON.stringify(run!.parts) : null } : m)) };
  }
}

function notFound(id: string): never {
  throw new NotFoundException(`Conversation ${id} not found`);
}
