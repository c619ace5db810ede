import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MessageEntity, MessageRole, MessageStatus } from './message.entity.js';
import { nextTimestamp } from './message-clock.js';

export interface NewMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly status: MessageStatus;
  readonly timestamp: string;
  readonly model?: string | null;
  readonly error?: string | null;
}

/** The conversation the seed endpoints (`/chat/`) read and write. */
export const DEFAULT_CONVERSATION_ID = '00000000-0000-0000-0000-000000000000';

@Injectable()
export class MessageRepository {
  private readonly serializeWrites: boolean;
  private writeTail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    // better-sqlite3 is one connection shared by every query runner: two transactions
    // that interleave their statements would nest BEGINs, so writes take turns.
    this.serializeWrites = dataSource.options.type === 'better-sqlite3';
  }

  /** Persists a run's messages in one transaction, in order; returns them with their ids. */
  append(conversationId: string, messages: readonly NewMessage[]): Promise<MessageEntity[]> {
    return this.write(() =>
      this.dataSource.transaction(async (manager) => {
        const createdAt = nextTimestamp();
        const rows = messages.map((message) =>
          manager.create(MessageEntity, {
            conversationId,
            role: message.role,
            content: message.content,
            status: message.status,
            timestamp: message.timestamp,
            model: message.model ?? null,
            error: message.error ?? null,
            createdAt,
          }),
        );
        // One INSERT each, in order, so ids follow the list.
        const saved: MessageEntity[] = [];
        for (const row of rows) saved.push(await manager.save(row));
        return saved;
      }),
    );
  }

  /** Every message of a conversation, oldest first. */
  listConversation(conversationId: string): Promise<MessageEntity[]> {
    return this.dataSource.getRepository(MessageEntity).find({
      where: { conversationId },
      order: { id: 'ASC' },
    });
  }

  private write<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.serializeWrites) return operation();
    const result = this.writeTail.then(operation, operation);
    this.writeTail = result.catch(() => undefined);
    return result;
  }
}
