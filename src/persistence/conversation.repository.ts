import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConversationEntity } from './conversation.entity.js';
import { MessageEntity } from './message.entity.js';
import { nextTimestamp } from './message-clock.js';
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
  ) {}

  private get conversations() {
    return this.dataSource.getRepository(ConversationEntity);
  }

  create(title: string | null): Promise<ConversationEntity> {
    const id = randomUUID();
    const now = nextTimestamp();
    return this.writes.run(() => this.conversations.save(this.conversations.create({ id, title, createdAt: now, updatedAt: now })));
  }

  /** The conversation with this id, created (untitled) if it does not exist yet. */
  async ensure(id: string): Promise<ConversationEntity> {
    const existing = await this.find(id);
    if (existing) return existing;
    const now = nextTimestamp();
    await this.writes.run(() =>
      this.conversations
        .createQueryBuilder()
        .insert()
        .values({ id, title: null, createdAt: now, updatedAt: now })
        .orIgnore() // created meanwhile by a concurrent request: keep that one
        .execute(),
    );
    return (await this.find(id))!;
  }

  find(id: string): Promise<ConversationEntity | null> {
    return this.conversations.findOneBy({ id });
  }

  /** Newest activity first, keyset-paginated on (updatedAt, id). */
  async list(limit: number, cursor?: string): Promise<ConversationPage> {
    const query = this.conversations
      .createQueryBuilder('c')
      .orderBy('c.updated_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit + 1);
    if (cursor) {
      const [updatedAt, id] = decodeCursor(cursor);
      query.where('(c.updated_at < :updatedAt OR (c.updated_at = :updatedAt AND c.id < :id))', { updatedAt, id });
    }
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async rename(id: string, title: string | null): Promise<ConversationEntity | null> {
    const result = await this.writes.run(() =>
      this.conversations.update({ id }, { title, updatedAt: nextTimestamp() }),
    );
    return result.affected ? this.find(id) : null;
  }

  /** Deletes the conversation and all its messages; false if there was none. */
  delete(id: string): Promise<boolean> {
    return this.writes.run(() =>
      this.dataSource.transaction(async (manager) => {
        await manager.delete(MessageEntity, { conversationId: id });
        const result = await manager.delete(ConversationEntity, { id });
        return (result.affected ?? 0) > 0;
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
