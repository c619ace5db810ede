import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In, LessThan, MoreThan, Not } from 'typeorm';
import { ConversationEntity } from './conversation.entity.js';
import { MessageEntity, type MessageRole, type MessageStatus } from './message.entity.js';
import { instanceId } from './instance-id.js';
import { nextTimestamp, timestampAfter } from './message-clock.js';
import { WriteQueue } from './write-queue.js';

export interface NewMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly status: MessageStatus;
  readonly timestamp: string;
  readonly model?: string | null;
  readonly error?: string | null;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface AnswerOutcome {
  readonly content: string;
  readonly status: Exclude<MessageStatus, 'streaming'>;
  readonly error?: string | null;
  readonly usage?: TokenUsage | null;
}

export interface MessagePage {
  /** Oldest first. */
  readonly items: MessageEntity[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

const CONTEXT_PAGE_SIZE = 64;
const MAX_TITLE_CHARS = 80;

@Injectable()
export class MessageRepository {
  /** Rows read by context and history queries since start: lets tests and the bench see the work a request does. */
  rowsRead = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writes: WriteQueue,
  ) {}

  private get messages() {
    return this.dataSource.getRepository(MessageEntity);
  }

  /**
   * Persists a list of messages in one transaction, in order; returns them with their ids.
   * The conversation's row is locked first (PostgreSQL), so concurrent appends to one
   * conversation, from any number of instances, take turns: each list gets consecutive places,
   * and timestamps rise with ids even when the instances' clocks differ.
   */
  append(conversationId: string, messages: readonly NewMessage[]): Promise<MessageEntity[]> {
    return this.writes.run(() =>
      this.dataSource.transaction(async (manager) => {
        const floor = await this.lockConversation(manager, conversationId);
        const saved = await this.insert(manager, conversationId, messages, floor);
        await this.touch(manager, conversationId, saved.at(-1)?.timestamp, messages.find((m) => m.role === 'user')?.content);
        return saved;
      }),
    );
  }

  /**
   * Finishes an answer: its text and status, and (on regenerate) removes the answers it
   * replaces, in one transaction.
   */
  finishAnswer(answer: MessageEntity, outcome: AnswerOutcome, replaces: readonly number[] = []): Promise<MessageEntity> {
    return this.writes.run(() =>
      this.dataSource.transaction(async (manager) => {
        const changes = {
          content: outcome.content,
          status: outcome.status,
          error: outcome.error ?? null,
          promptTokens: outcome.usage?.promptTokens ?? null,
          completionTokens: outcome.usage?.completionTokens ?? null,
          instanceId: null,
        };
        await manager.update(MessageEntity, { id: answer.id }, changes);
        if (replaces.length > 0) await manager.delete(MessageEntity, { id: In([...replaces]) });
        await this.touch(manager, answer.conversationId);
        return Object.assign(new MessageEntity(), answer, changes);
      }),
    );
  }

  /**
   * The newest messages before `beforeId` that fit `maxTokens`, oldest first. Reads newest-first
   * in small pages along the (conversation_id, id) index and stops at the budget, so the work
   * depends on the budget, not on the length of the conversation. The newest message is always
   * included, even alone over the budget.
   */
  async contextTail(
    conversationId: string,
    beforeId: number,
    maxTokens: number,
    estimateTokens: (message: MessageEntity) => number,
  ): Promise<MessageEntity[]> {
    const picked: MessageEntity[] = [];
    let budget = maxTokens;
    let cursor = beforeId;
    for (;;) {
      const page = await this.messages.find({
        where: { conversationId, id: LessThan(cursor), status: Not('streaming') },
        order: { id: 'DESC' },
        take: CONTEXT_PAGE_SIZE,
      });
      this.rowsRead += page.length;
      for (const message of page) {
        if (message.content.length === 0) continue; // failed before any text: nothing to show the model
        const cost = estimateTokens(message);
        if (cost > budget && picked.length > 0) return picked.reverse();
        budget -= cost;
        picked.push(message);
      }
      if (page.length < CONTEXT_PAGE_SIZE) return picked.reverse();
      cursor = page.at(-1)!.id;
    }
  }

  /** A page of messages, oldest first, before the message id `before` (or the newest). */
  async page(conversationId: string, limit: number, before?: number): Promise<MessagePage> {
    const rows = await this.messages.find({
      where: { conversationId, ...(before !== undefined && { id: LessThan(before) }) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    this.rowsRead += rows.length;
    const items = rows.slice(0, limit).reverse();
    return { items, nextBefore: rows.length > limit ? items[0].id : null };
  }

  /** Every message of a conversation, oldest first, read in pages so memory stays flat. */
  async *iterate(conversationId: string, pageSize = 500): AsyncGenerator<MessageEntity[]> {
    let after = 0;
    for (;;) {
      const page = await this.messages
        .createQueryBuilder('m')
        .where('m.conversation_id = :conversationId AND m.id > :after', { conversationId, after })
        .orderBy('m.id', 'ASC')
        .limit(pageSize)
        .getMany();
      this.rowsRead += page.length;
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page.at(-1)!.id;
    }
  }

  /** Every message of a conversation, oldest first. */
  async listConversation(conversationId: string): Promise<MessageEntity[]> {
    const all: MessageEntity[] = [];
    for await (const page of this.iterate(conversationId)) all.push(...page);
    return all;
  }

  /** The conversation's last user message and the answers after it (what regenerate replaces). */
  async lastExchange(conversationId: string): Promise<{ prompt: MessageEntity; answers: MessageEntity[] } | null> {
    const prompt = await this.messages.findOne({ where: { conversationId, role: 'user' }, order: { id: 'DESC' } });
    if (!prompt) return null;
    const answers = await this.messages.find({ where: { conversationId, id: MoreThan(prompt.id) }, order: { id: 'ASC' } });
    this.rowsRead += answers.length + 1;
    return { prompt, answers };
  }

  /** Locks the conversation's row until the transaction ends; returns its last activity time. */
  private async lockConversation(manager: EntityManager, conversationId: string): Promise<string | undefined> {
    // SQLite writers already take turns (one connection, the write queue); FOR UPDATE is PostgreSQL's.
    const lock = this.dataSource.options.type === 'postgres' ? ' FOR UPDATE' : '';
    const rows = await manager.query<{ updated_at: string }[]>(
      `SELECT updated_at FROM conversations WHERE id = ${this.parameter(1)}${lock}`,
      [conversationId],
    );
    return rows[0]?.updated_at;
  }

  private parameter(n: number): string {
    return this.dataSource.options.type === 'postgres' ? `$${n}` : '?';
  }

  private async insert(manager: EntityManager, conversationId: string, messages: readonly NewMessage[], floor: string | undefined) {
    const createdAt = nextTimestamp();
    const saved: MessageEntity[] = [];
    let previous = floor;
    // One INSERT each, in order, so ids follow the list.
    for (const message of messages) {
      const timestamp = previous !== undefined && message.timestamp <= previous ? timestampAfter(previous) : message.timestamp;
      previous = timestamp;
      saved.push(
        await manager.save(
          manager.create(MessageEntity, {
            conversationId,
            role: message.role,
            content: message.content,
            status: message.status,
            timestamp,
            model: message.model ?? null,
            error: message.error ?? null,
            createdAt,
            promptTokens: null,
            completionTokens: null,
            instanceId: message.status === 'streaming' ? instanceId : null,
          }),
        ),
      );
    }
    return saved;
  }

  /**
   * Marks activity on the conversation (never earlier than `notBefore`, the newest message's
   * timestamp), and titles an untitled one after its first prompt.
   */
  private async touch(manager: EntityManager, conversationId: string, notBefore?: string, prompt?: string): Promise<void> {
    const now = nextTimestamp();
    const updatedAt = notBefore !== undefined && now <= notBefore ? timestampAfter(notBefore) : now;
    // Only ever forward: another instance, its clock ahead of ours, may have written later.
    await manager
      .createQueryBuilder()
      .update(ConversationEntity)
      .set({ updatedAt })
      .where('id = :id AND updated_at < :updatedAt', { id: conversationId, updatedAt })
      .execute();
    if (prompt !== undefined) {
      await manager
        .createQueryBuilder()
        .update(ConversationEntity)
        .set({ title: titleFrom(prompt) })
        .where('id = :id AND title IS NULL', { id: conversationId })
        .execute();
    }
  }
}

/** A title from a prompt: its first non-empty line, trimmed, at most MAX_TITLE_CHARS. */
export function titleFrom(prompt: string): string {
  const line = prompt
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? '';
  const chars = [...line];
  return chars.length > MAX_TITLE_CHARS ? `${chars.slice(0, MAX_TITLE_CHARS - 1).join('')}…` : line;
}
