import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type MessageRole = 'user' | 'model';
/**
 * streaming: the answer is being written (its row exists from the start, so its id and place are fixed);
 * complete: the whole answer arrived; interrupted: the client left mid-answer; error: the model call failed.
 */
export type MessageStatus = 'streaming' | 'complete' | 'interrupted' | 'error';

@Entity({ name: 'messages' })
@Index('idx_messages_conversation_id_id', ['conversationId', 'id'])
@Index('idx_messages_streaming', ['instanceId'], { where: "status = 'streaming'" })
@Index('idx_messages_conversation_parent_id', ['conversationId', 'parentId', 'id'])
@Index('idx_messages_client_message_id', ['conversationId', 'clientMessageId'], { where: 'client_message_id IS NOT NULL' })
export class MessageEntity {
  /** Auto-increment: the order of messages, also between two with the same timestamp. */
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'conversation_id', type: 'varchar', length: 36 })
  conversationId!: string;

  /**
   * The message this one follows: an answer's prompt, or a prompt's previous answer; null for a
   * conversation's first prompt. Messages with the same parent are siblings (branches: an edited
   * prompt, a regenerated answer). A child is always written after its parent, so its id is larger.
   */
  @Column({ name: 'parent_id', type: 'integer', nullable: true })
  parentId!: number | null;

  /** The id an AI SDK client gave this prompt (its UIMessage id), so an edit of it is found again. */
  @Column({ name: 'client_message_id', type: 'varchar', length: 200, nullable: true })
  clientMessageId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  role!: MessageRole;

  @Column({ type: 'text' })
  content!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: MessageStatus;

  /** What went wrong, for status 'error' (the same text the client was shown). */
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The model that wrote an answer; null for user messages. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  model!: string | null;

  /**
   * ISO 8601 with microseconds, unique per message: the seed page keys elements by it.
   * Stored as text so both SQLite and PostgreSQL keep exactly what was streamed.
   */
  @Column({ type: 'varchar', length: 32 })
  timestamp!: string;

  /** When the row was written. */
  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt!: string;

  /** Token counts the upstream reported for this answer (null when it reported none). */
  @Column({ name: 'prompt_tokens', type: 'integer', nullable: true })
  promptTokens!: number | null;

  @Column({ name: 'completion_tokens', type: 'integer', nullable: true })
  completionTokens!: number | null;

  /**
   * An answer's parts in order (text, tool calls, tool results), as JSON; null when the answer
   * is only its text. `content` is always the answer's whole text.
   */
  @Column({ type: 'text', nullable: true })
  parts!: string | null;

  /** The server instance writing a `streaming` answer: a crashed instance's answers are found by it. */
  @Column({ name: 'instance_id', type: 'varchar', length: 36, nullable: true })
  instanceId!: string | null;

  /**
   * Not a column: the ids of the messages sharing this one's parent, itself included, oldest
   * first, filled in by the reads that show messages with their branches (a page of the active
   * path, a new exchange). Plain data, so it travels with the message to other instances.
   */
  siblingIds?: readonly number[];
}
