import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConversationEntity } from './conversation.entity.js';
import { MessageEntity } from './message.entity.js';
import { nextTimestamp } from './message-clock.js';
import { HotPathSql } from './hot-path-sql.js';
import { WriteQueue } from './write-queue.js';

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

  create(ownerId: string, title: string | null): Promise<ConversationEntity> {
    const id = randomUUID();
    const now = nextTimestamp();
    return this.writes.run(() =>
      this.conversations.save(this.conversations.create({ id, ownerId, title, createdAt: now, updatedAt: now })),
    );
  }

  /**
   * Whether the owner has a conversation with this id; with `create`, one nobody has yet is
   * created (untitled) for the owner first. Another owner's id is as absent as a missing one.
   * Plain SQL (HotPathSql): it runs before every answer.
   */
  async owns(id: string, ownerId: string, create = false): Promise<boolean> {
    const owner = await this.ownerOf(id);
    if (owner !== undefined || !create) return owner === ownerId;
    const now = nextTimestamp();
    await this.writes.run(() =>
      this.conversations
        .createQueryBuilder()
        .insert()
        .values({ id, ownerId, title: null, createdAt: now, updatedAt: now })
        .orIgnore() // created meanwhile by a concurrent request: keep that one
        .execute(),
    );
    return (await this.ownerOf(id)) === ownerId;
  }

  private async ownerOf(id: string): Promise<string | undefined> {
    const rows = await this.sql.execute<{ owner_id: string }>('SELECT owner_id FROM conversations WHERE id = ?', [id]);
    return rows[0]?.owner_id;
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

  async rename(id: string, ownerId: string, title: string | null): Promise<ConversationEntity | null> {
    const result = await this.writes.run(() =>
      this.conversations.update({ id, ownerId }, { title, updatedAt: nextTimestamp() }),
    );
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
