import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'conversations' })
@Index('idx_conversations_owner_updated_at_id', ['ownerId', 'updatedAt', 'id'])
export class ConversationEntity {
  /** A random UUID (the seed endpoints' default conversation is derived from the owner). */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Whose it is (see AUTH_MODE); 'local' for the single owner of AUTH_MODE=none. */
  @Column({ name: 'owner_id', type: 'varchar', length: 80, default: 'local' })
  ownerId!: string;

  /** Given by the client, or taken from the first prompt. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  title!: string | null;

  /** ISO 8601 with microseconds, like message timestamps. */
  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  /** Last activity: a new message, an answer ending, or a rename. Lists sort by it, newest first. */
  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt!: string;

  /**
   * The active leaf: the conversation shows, and answers see, the path from the root down to it.
   * Null until the first message (and for rows written without it: then the newest message).
   */
  @Column({ name: 'active_message_id', type: 'integer', nullable: true })
  activeMessageId!: number | null;

  /** The model its answers use (one of GET /api/models); null: the server's default (OPENAI_MODEL). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  model!: string | null;

  /** Sent as the system message instead of SYSTEM_PROMPT; null: SYSTEM_PROMPT. */
  @Column({ name: 'system_prompt', type: 'text', nullable: true })
  systemPrompt!: string | null;
}
