import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, LessThan, MoreThan } from 'typeorm';
import { HotPathSql } from './hot-path-sql.js';
import { MessageEntity, type MessageRole, type MessageStatus } from './message.entity.js';
import { instanceId } from './instance-id.js';
import { nextTimestamp, timestampAfter } from './message-clock.js';

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
  /** The answer's parts as JSON, when it has more than text. */
  readonly parts?: string | null;
}

/** A message as the model's context needs it. */
export interface ContextMessage {
  readonly id: number;
  readonly role: MessageRole;
  readonly content: string;
  /** JSON; null when the message is only its text. */
  readonly parts: string | null;
}

export interface SearchMatch {
  readonly id: number;
  readonly conversationId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly timestamp: string;
  readonly title: string | null;
}

export interface AppendOptions {
  /** The title an untitled conversation gets. */
  readonly titleIfUntitled?: string;
  readonly unlessStreaming?: boolean;
}

export interface MessagePage {
  /** Oldest first. */
  readonly items: MessageEntity[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

@Injectable()
export class MessageRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: HotPathSql,
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
  append(conversationId: string, messages: readonly NewMessage[], options?: { titleIfUntitled?: string }): Promise<MessageEntity[]>;
  /**
   * With `unlessStreaming`: appends only if no answer in the conversation is still streaming
   * (checked under the same lock, so of two racing callers one wins); null otherwise.
   */
  append(conversationId: string, messages: readonly NewMessage[], options: AppendOptions & { unlessStreaming: true }): Promise<MessageEntity[] | null>;
  append(conversationId: string, messages: readonly NewMessage[], options: AppendOptions = {}): Promise<MessageEntity[] | null> {
    return this.sql.transaction(async (manager) => {
      const floor = await this.lockConversation(conversationId, manager);
      if (options.unlessStreaming) {
        const streaming = await this.sql.execute(
          `SELECT 1 AS streaming FROM messages WHERE conversation_id = ? AND status = 'streaming' LIMIT 1`,
          [conversationId],
          manager,
        );
        if (streaming.length > 0) return null;
      }
      const saved = await this.insert(conversationId, messages, floor, manager);
      await this.touch(conversationId, manager, saved.at(-1)?.timestamp, options.titleIfUntitled);
      return saved;
    });
  }

  /**
   * Finishes an answer: its text and status, and (on regenerate) removes the answers it
   * replaces, in one transaction.
   */
  finishAnswer(answer: MessageEntity, outcome: AnswerOutcome, replaces: readonly number[] = []): Promise<MessageEntity> {
    return this.sql.transaction(async (manager) => {
      const changes = {
        content: outcome.content,
        status: outcome.status,
        error: outcome.error ?? null,
        promptTokens: outcome.usage?.promptTokens ?? null,
        completionTokens: outcome.usage?.completionTokens ?? null,
        parts: outcome.parts ?? null,
        instanceId: null,
      };
      await this.sql.execute(
        `UPDATE messages SET content = ?, status = ?, error = ?, prompt_tokens = ?, completion_tokens = ?, parts = ?, instance_id = NULL WHERE id = ?`,
        [changes.content, changes.status, changes.error, changes.promptTokens, changes.completionTokens, changes.parts, answer.id],
        manager,
      );
      if (replaces.length > 0) {
        await this.sql.execute(`DELETE FROM messages WHERE id IN (${replaces.map(() => '?').join(', ')})`, replaces, manager);
      }
      await this.touch(answer.conversationId, manager);
      return Object.assign(new MessageEntity(), answer, changes);
    });
  }

  /** Saves a streaming answer's text so far (nothing once it has finished). */
  async checkpoint(answerId: number, content: string, parts: string | null = null): Promise<void> {
    await this.sql.transaction(async (manager) => {
      await this.sql.execute(`UPDATE messages SET content = ?, parts = ? WHERE id = ? AND status = 'streaming'`, [content, parts, answerId], manager);
    });
  }

  /**
   * Up to `limit` messages before `beforeId` that the model may see (finished, with text),
   * newest first, along the (conversation_id, id) index: one page of an answer's context.
   */
  contextPage(conversationId: string, beforeId: number, limit: number): Promise<ContextMessage[]> | ContextMessage[] {
    // Only what the model sees: the rows stay plain objects, no entity per row.
    return this.sql.execute<ContextMessage>(
      `SELECT id, role, content, parts FROM messages WHERE conversation_id = ? AND id < ? AND status <> 'streaming' ORDER BY id DESC LIMIT ${Math.trunc(limit)}`,
      [conversationId, beforeId],
    );
  }

  /**
   * The owner's finished messages containing every word (case-insensitive), newest first, at
   * most `limit`, outside `excludeConversationId`. A scan of the owner's messages: fine for a
   * tool call now and then, not for a hot path.
   */
  search(ownerId: string, words: readonly string[], excludeConversationId: string, limit = 200): Promise<SearchMatch[]> | SearchMatch[] {
    const like = words.map(() => `LOWER(m.content) LIKE ? ESCAPE '\\'`).join(' AND ');
    return this.sql.execute<SearchMatch>(
      `SELECT m.id, m.conversation_id AS "conversationId", m.role, m.content, m.timestamp, c.title FROM messages m JOIN conversations c ON c.id = m.conversation_id ` +
        `WHERE c.owner_id = ? AND m.conversation_id <> ? AND m.status <> 'streaming' AND ${like} ORDER BY m.id DESC LIMIT ${Math.trunc(limit)}`,
      [ownerId, excludeConversationId, ...words.map((word) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)],
    );
  }

  /** A page of messages, oldest first, before the message id `before` (or the newest). */
  async page(conversationId: string, limit: number, before?: number): Promise<MessagePage> {
    const rows = await this.messages.find({
      where: { conversationId, ...(before !== undefined && { id: LessThan(before) }) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
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
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page.at(-1)!.id;
    }
  }

  /** The conversation's last user message and the answers after it (what regenerate replaces). */
  async lastExchange(conversationId: string): Promise<{ prompt: MessageEntity; answers: MessageEntity[] } | null> {
    const prompt = await this.messages.findOne({ where: { conversationId, role: 'user' }, order: { id: 'DESC' } });
    if (!prompt) return null;
    const answers = await this.messages.find({ where: { conversationId, id: MoreThan(prompt.id) }, order: { id: 'ASC' } });
    return { prompt, answers };
  }

  /** Locks the conversation's row until the transaction ends; returns its last activity time. */
  private async lockConversation(conversationId: string, manager?: EntityManager): Promise<string | undefined> {
    const lock = this.sql.locksRows ? ' FOR UPDATE' : '';
    const rows = await this.sql.execute<{ updated_at: string }>(`SELECT updated_at FROM conversations WHERE id = ?${lock}`, [conversationId], manager);
    return rows[0]?.updated_at;
  }

  private async insert(conversationId: string, messages: readonly NewMessage[], floor: string | undefined, manager?: EntityManager) {
    const createdAt = nextTimestamp();
    const saved: MessageEntity[] = [];
    let previous = floor;
    // One INSERT each, in order, so ids follow the list.
    for (const message of messages) {
      const timestamp = previous !== undefined && message.timestamp <= previous ? timestampAfter(previous) : message.timestamp;
      previous = timestamp;
      const row = {
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
      };
      const [{ id }] = await this.sql.execute<{ id: number }>(
        `INSERT INTO messages (conversation_id, role, content, status, timestamp, model, error, created_at, instance_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [conversationId, row.role, row.content, row.status, row.timestamp, row.model, row.error, row.createdAt, row.instanceId],
        manager,
      );
      saved.push(Object.assign(new MessageEntity(), row, { id }));
    }
    return saved;
  }

  /**
   * Marks activity on the conversation (never earlier than `notBefore`, the newest message's
   * timestamp), and gives an untitled one `title`.
   */
  private async touch(conversationId: string, manager?: EntityManager, notBefore?: string, title?: string): Promise<void> {
    const now = nextTimestamp();
    const updatedAt = notBefore !== undefined && now <= notBefore ? timestampAfter(notBefore) : now;
    // Only ever forward: another instance, its clock ahead of ours, may have written later.
    await this.sql.execute(
      `UPDATE conversations SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END, title = COALESCE(title, ?) WHERE id = ?`,
      [updatedAt, updatedAt, title ?? null, conversationId],
      manager,
    );
  }
}
