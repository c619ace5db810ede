import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConversationEntity } from './conversation.entity.js';
import { MessageEntity } from './message.entity.js';
import { nextTimestamp } from './message-clock.js';
import { HotPathSql } from './hot-path-sql.js';
import { WriteQueue } from './write-queue.js';

/** How a conversation's answers are made: null fields take the server's defaults. */
export interface ConversationSettings {
  readonly model: string | null;
  readonly systemPrompt: string | null;
}

export interface ConversationPage {
  readonly items: ConversationEntity[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

@Injectable()
export class ConversationRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writes: WriteQueue,
    private readonly sql: HotPathSql,
  ) {}

  private get conversations() {
    return this.dataSource.getRepository(ConversationEntity);
  }

  create(ownerId: string, title: string | null, settings: ConversationSettings = { model: null, systemPrompt: null }): Promise<ConversationEntity> {
    const id = randomUUID();
    const now = nextTimestamp();
    return this.writes.run(() =>
      this.conversations.save(
        this.conversations.create({ id, ownerId, title, createdAt: now, updatedAt: now, activeMessageId: null, model: settings.model, systemPrompt: settings.systemPrompt }),
      ),
    );
  }

  /**
   * Whether the owner has a conversation with this id; with `create`, one nobody has yet is
   * created (untitled) for the owner first. Another owner's id is as absent as a missing one.
   * Plain SQL (HotPathSql): it runs before every answer.
   */
  async owns(id: string, ownerId: string, create = false): Promise<boolean> {
    return (await this.settingsIfOwned(id, ownerId, create)) !== null;
  }

  /** What `owns` checks, and the conversation's answer settings when it is the owner's (null otherwise): one read. */
  async settingsIfOwned(id: string, ownerId: string, create = false): Promise<ConversationSettings | null> {
    const found = await this.ownerAndSettings(id);
    if (found !== undefined || !create) return found?.ownerId === ownerId ? found.settings : null;
    const now = nextTimestamp();
    await this.writes.run(() =>
      this.conversations
        .createQueryBuilder()
        .insert()
        .values({ id, ownerId, title: null, createdAt: now, updatedAt: now })
        .orIgnore() // created meanwhile by a concurrent request: keep that one
        .execute(),
    );
    const created = await this.ownerAndSettings(id);
    return created?.ownerId === ownerId ? created.settings : null;
  }

  private async ownerAndSettings(id: string): Promise<{ ownerId: string; settings: ConversationSettings } | undefined> {
    const rows = await this.sql.execute<{ owner_id: string; model: string | null; system_prompt: string | null }>(
      'SELECT owner_id, model, system_prompt FROM conversations WHERE id = ?',
      [id],
    );
    const row = rows[0];
    return row && { ownerId: row.owner_id, settings: { model: row.model, systemPrompt: row.system_prompt } };
  }

  /** The conversation with this id if it is the owner's; another owner's is as absent as a missing one. */
  find(id: string, ownerId: string): Promise<ConversationEntity | null> {
    return this.conversations.findOneBy({ id, ownerId });
  }

  /** The owner's conversations, newest activity first, keyset-paginated on (updatedAt, id). */
  async list(ownerId: string, limit: number, cursor?: string): Promise<ConversationPage> {
    const query = this.conversations
      .createQueryBuilder('c')
      .where('c.owner_id = :ownerId', { ownerId })
      .orderBy('c.updated_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit + 1);
    if (cursor) {
      const [updatedAt, id] = decodeCursor(cursor);
      query.andWhere('(c.updated_at < :updatedAt OR (c.updated_at = :updatedAt AND c.id < :id))', { updatedAt, id });
    }
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Changes what is given; a new title counts as activity (the list moves it to the front), settings do not. */
  async update(id: string, ownerId: string, changes: { title?: string; model?: string | null; systemPrompt?: string | null }): Promise<ConversationEntity | null> {
    const values = {
      ...(changes.title !== undefined && { title: changes.title, updatedAt: nextTimestamp() }),
      ...(changes.model !== undefined && { model: changes.model }),
      ...(changes.systemPrompt !== undefined && { systemPrompt: changes.systemPrompt }),
    };
    if (Object.keys(values).length === 0) return this.find(id, ownerId);
    const result = await this.writes.run(() => this.conversations.update({ id, ownerId }, values));
    return result.affected ? this.find(id, ownerId) : null;
  }

  /** Deletes the owner's conversation and all its messages; false if the owner has none with this id. */
  delete(id: string, ownerId: string): Promise<boolean> {
    return this.writes.run(() =>
      this.dataSource.transaction(async (manager) => {
        const result = await manager.delete(ConversationEntity, { id, ownerId });
        if (!result.affected) return false;
        await manager.delete(MessageEntity, { conversationId: id });
        return true;
      }),
    );
  }
}

export class InvalidCursorError extends Error {}

function encodeCursor(conversation: ConversationEntity): string {
  return Buffer.from(JSON.stringify([conversation.updatedAt, conversation.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as [string, string];
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError('cursor is not one this server returned');
}
