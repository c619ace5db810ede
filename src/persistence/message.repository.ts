import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import { HotPathSql } from './hot-path-sql.js';
import { SQLITE_SEED_LINE, type SeedRow, seedLinesOf } from './seed-lines.js';
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
  /** A prompt from an AI SDK client: the id the client gave it. */
  readonly clientMessageId?: string | null;
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

/** A message of a path as an answer's context reads it (contextPath). */
export interface ContextRow {
  readonly id: number;
  readonly parentId: number | null;
  readonly role: MessageRole;
  readonly content: string;
  /** JSON; null when the message is only its text. */
  readonly parts: string | null;
  readonly status: MessageStatus;
  /** The instance writing the answer; null once its writer stored it (and for prompts). */
  readonly instanceId: string | null;
}

export interface SearchMatch {
  readonly id: number;
  readonly conversationId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly timestamp: string;
  readonly title: string | null;
}

/** A message's place in the tree, for checks before a branch is made. */
export interface TreeNode {
  readonly id: number;
  readonly parentId: number | null;
  readonly role: MessageRole;
  readonly status: MessageStatus;
}

export interface AppendOptions {
  /** The title an untitled conversation gets. */
  readonly titleIfUntitled?: string;
  readonly unlessStreaming?: boolean;
  /**
   * The message the first of the list follows (each next one follows the one before it):
   * undefined for the conversation's active leaf, null for a new first prompt. The last of the
   * list becomes the active leaf.
   */
  readonly parentId?: number | null;
}

/** A message as the API shows it: its columns but the bookkeeping ones, and its `siblingIds` when the read fills them in. */
export type ShownMessage = Pick<
  MessageEntity,
  'id' | 'conversationId' | 'parentId' | 'siblingIds' | 'role' | 'content' | 'status' | 'error' | 'model' | 'timestamp' | 'promptTokens' | 'completionTokens' | 'parts'
>;

export interface MessagePage {
  /** Oldest first, each with its `siblingIds`. */
  readonly items: ShownMessage[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

/**
 * The path from message `?` (in conversation `?`) up towards the first prompt, at most `?`
 * messages, one primary-key lookup per step: the cost of a walk is its length, whatever the size
 * of the tree around it. Children have larger ids than their parents, so `id DESC` is walk order.
 */
const walkUp = (columns: string) => `WITH RECURSIVE path(${columns}, depth) AS (
  SELECT ${columns}, 1 FROM messages WHERE id = ? AND conversation_id = ?
  UNION ALL
  SELECT ${columns.split(', ').map((c) => `m.${c}`).join(', ')}, path.depth + 1 FROM messages m JOIN path ON m.id = path.parent_id WHERE path.depth < ?
)
SELECT ${columns} FROM path ORDER BY id DESC`;

const WALK_CONTEXT = walkUp('id, parent_id, role, content, parts, status, instance_id');
type ContextTuple = readonly [id: number, parentId: number | null, role: MessageRole, content: string, parts: string | null, status: MessageStatus, instanceId: string | null];
const WALK_PAGE = walkUp('id, parent_id, role, content, status, error, model, timestamp, prompt_tokens, completion_tokens, parts');
type PageTuple = readonly [
  id: number,
  parentId: number | null,
  role: MessageRole,
  content: string,
  status: MessageStatus,
  error: string | null,
  model: string | null,
  timestamp: string,
  promptTokens: number | null,
  completionTokens: number | null,
  parts: string | null,
];

/**
 * The children of the parents listed, per parent oldest first, from the covering
 * (conversation_id, parent_id, id) index: the list's cost, whatever the conversation's size.
 * Ordered by id alone, SQLite took the (conversation_id, id) index instead and read the whole
 * conversation. The list is one parameter, so there is one statement for any number of parents.
 */
const CHILDREN_OF = {
  sqlite: 'SELECT parent_id, id FROM messages WHERE conversation_id = ? AND parent_id IN (SELECT value FROM json_each(?)) ORDER BY parent_id, id',
  postgres: 'SELECT parent_id, id FROM messages WHERE conversation_id = ? AND parent_id = ANY(?::integer[]) ORDER BY parent_id, id',
};

/** Every parent link of conversation `?`, from the covering (conversation_id, parent_id, id) index alone. */
const PARENT_LINKS = 'SELECT id, parent_id FROM messages WHERE conversation_id = ?';

/** From message `?` down to the newest leaf under it, always taking the newest child: that leaf's id (null if the message is not in the conversation). */
const NEWEST_LEAF_BELOW = `WITH RECURSIVE down(id) AS (
  SELECT id FROM messages WHERE id = ? AND conversation_id = ?
  UNION ALL
  SELECT (SELECT MAX(c.id) FROM messages c WHERE c.conversation_id = ? AND c.parent_id = down.id) FROM down WHERE down.id IS NOT NULL
)
SELECT MAX(id) AS leaf FROM down`;

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
   * Persists a list of messages in one transaction, in order, as a chain: the first follows
   * `options.parentId` (the active leaf by default), each next one the one before it, and the
   * last becomes the conversation's active leaf. Returns them with their ids, parents and
   * sibling ids. The conversation's row is locked first (PostgreSQL), so concurrent appends to
   * one conversation, from any number of instances, take turns: each list gets consecutive
   * places, follows the leaf the one before it left, and timestamps rise with ids even when the
   * instances' clocks differ.
   */
  append(conversationId: string, messages: readonly NewMessage[], options?: Omit<AppendOptions, 'unlessStreaming'>): Promise<MessageEntity[]>;
  /**
   * With `unlessStreaming`: appends only if no answer in the conversation is still streaming
   * (checked under the same lock, so of two racing callers one wins); null otherwise.
   */
  append(conversationId: string, messages: readonly NewMessage[], options: AppendOptions & { unlessStreaming: true }): Promise<MessageEntity[] | null>;
  append(conversationId: string, messages: readonly NewMessage[], options: AppendOptions = {}): Promise<MessageEntity[] | null> {
    return this.sql.transaction(async (manager) => {
      const conversation = await this.lockConversation(conversationId, manager);
      if (options.unlessStreaming) {
        const streaming = await this.sql.execute(
          `SELECT 1 AS streaming FROM messages WHERE conversation_id = ? AND status = 'streaming' LIMIT 1`,
          [conversationId],
          manager,
        );
        if (streaming.length > 0) return null;
      }
      const followsLeaf = options.parentId === undefined;
      const parentId = followsLeaf ? await this.leafOf(conversationId, conversation?.activeMessageId ?? null, manager) : options.parentId!;
      const saved = await this.insert(conversationId, messages, parentId, conversation?.updatedAt, manager);
      // The active leaf has no children, so a list that follows it starts a branch of its own;
      // only a chosen parent can have other children already.
      const first = saved[0];
      if (first) first.siblingIds = followsLeaf ? [first.id] : await this.childIds(conversationId, parentId, manager);
      for (const message of saved.slice(1)) message.siblingIds = [message.id];
      await this.touch(conversationId, manager, { notBefore: saved.at(-1)?.timestamp, title: options.titleIfUntitled, activeMessageId: saved.at(-1)?.id });
      return saved;
    });
  }

  /** Finishes an answer: its text, status, error and usage. */
  finishAnswer(answer: MessageEntity, outcome: AnswerOutcome): Promise<MessageEntity> {
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
   * Up to `limit` messages of the path from `fromId` (included) up towards the first prompt,
   * newest first: one page of an answer's context. A walk along parent links, so the work is
   * the page's, whatever the size of the conversation or its number of branches. Empty when
   * `fromId` is not a message of the conversation.
   */
  async contextPath(conversationId: string, fromId: number, limit: number): Promise<ContextRow[]> {
    // From rows read as arrays: no entity, nor a driver-built object, per row.
    const rows = await this.sql.tuples<ContextTuple>(WALK_CONTEXT, [fromId, conversationId, Math.trunc(limit)]);
    return rows.map(([id, parentId, role, content, parts, status, instanceId]) => ({ id, parentId, role, content, parts, status, instanceId }));
  }

  /**
   * A page of the conversation's active path, oldest first: the `limit` messages above
   * `before` on its path (a message of this conversation, the oldest of the previous page), or
   * the newest of the active path. Null when `before` is not a message of this conversation.
   */
  async page(conversationId: string, limit: number, before?: number): Promise<MessagePage | null> {
    let from: number | null;
    if (before === undefined) {
      from = await this.activeLeaf(conversationId);
    } else {
      const above = await this.find(conversationId, before);
      if (!above) return null;
      from = above.parentId;
    }
    if (from === null) return { items: [], nextBefore: null };
    // Rows as arrays, made into the shown messages here: no entity per row.
    const walked = await this.sql.tuples<PageTuple>(WALK_PAGE, [from, conversationId, limit + 1]);
    const items = walked
      .slice(0, limit)
      .reverse()
      .map(([id, parentId, role, content, status, error, model, timestamp, promptTokens, completionTokens, parts]): ShownMessage => ({
        id,
        conversationId,
        parentId,
        role,
        content,
        status,
        error,
        model,
        timestamp,
        promptTokens,
        completionTokens,
        parts,
      }));
    if (items.length === 0) return { items: [], nextBefore: null };
    await this.withSiblings(conversationId, items);
    return { items, nextBefore: walked.length > limit ? items[0].id : null };
  }

  /**
   * The ids of the conversation's active path, oldest first, to page through. The whole path is
   * wanted, so the conversation's parent links are read in one scan of the covering
   * (conversation_id, parent_id, id) index and walked here: a recursive query's primary-key
   * lookup per step cost several times more on long paths. The cost grows with the
   * conversation's size, branches included; only the context walk must not (it stays in SQL).
   */
  async activePathIds(conversationId: string): Promise<number[]> {
    const leaf = await this.activeLeaf(conversationId);
    if (leaf === null) return [];
    const links = await this.sql.tuples<readonly [id: number, parentId: number | null]>(PARENT_LINKS, [conversationId]);
    const parentOf = new Map<number, number | null>();
    for (const [id, parentId] of links) parentOf.set(id, parentId);
    const ids: number[] = [];
    // Bounded by the number of links, whatever the data says.
    for (let id: number | null | undefined = leaf; id != null && parentOf.has(id) && ids.length < links.length; id = parentOf.get(id)) ids.push(id);
    return ids.reverse();
  }

  /**
   * The messages with text among `ids` (a page of activePathIds) of conversation
   * `conversationId`, oldest first, as the seed format's lines in one string. On SQLite the
   * lines are written by SQLite in one statement (SQLITE_SEED_LINE; the ids go in as one JSON
   * array, so every page uses the same prepared statement); on PostgreSQL from the rows.
   */
  async seedLines(conversationId: string, ids: readonly number[]): Promise<string> {
    if (ids.length === 0) return '';
    if (this.sql.isSqlite) {
      // `+conversation_id`: a check on the rows found by id; as an index term it made SQLite scan the whole conversation.
      const [[lines]] = await this.sql.tuples<readonly [lines: string | null]>(
        `SELECT group_concat(${SQLITE_SEED_LINE}, '' ORDER BY id) FROM messages WHERE id IN (SELECT value FROM json_each(?)) AND +conversation_id = ? AND content <> ''`,
        [JSON.stringify(ids), conversationId],
      );
      return lines ?? '';
    }
    const rows = await this.sql.execute<SeedRow>(
      `SELECT role, timestamp, content FROM messages WHERE id IN (${ids.map(() => '?').join(', ')}) AND conversation_id = ? AND content <> '' ORDER BY id`,
      [...ids, conversationId],
    );
    return seedLinesOf(rows);
  }

  /** The conversation's active path, oldest first, read in pages so memory stays flat. */
  async *iterateActivePath(conversationId: string, pageSize = 500): AsyncGenerator<MessageEntity[]> {
    const ids = await this.activePathIds(conversationId);
    for (let start = 0; start < ids.length; start += pageSize) {
      yield await this.messages.find({ where: { id: In(ids.slice(start, start + pageSize)) }, order: { id: 'ASC' } });
    }
  }

  /** The whole message with this id, with its `siblingIds`, if it is in this conversation. */
  async findShown(conversationId: string, id: number): Promise<MessageEntity | null> {
    const message = await this.messages.findOneBy({ id, conversationId });
    return message && (await this.withSiblings(conversationId, [message]))[0];
  }

  /** The message with this id if it is in this conversation. */
  async find(conversationId: string, id: number): Promise<TreeNode | null> {
    const rows = await this.sql.execute<{ id: number; parent_id: number | null; role: MessageRole; status: MessageStatus }>(
      'SELECT id, parent_id, role, status FROM messages WHERE id = ? AND conversation_id = ?',
      [id, conversationId],
    );
    const row = rows[0];
    return row ? { id: row.id, parentId: row.parent_id, role: row.role, status: row.status } : null;
  }

  /** The newest prompt of the conversation that an AI SDK client gave this id. */
  async findByClientMessageId(conversationId: string, clientMessageId: string): Promise<TreeNode | null> {
    const rows = await this.sql.execute<{ id: number; parent_id: number | null; role: MessageRole; status: MessageStatus }>(
      'SELECT id, parent_id, role, status FROM messages WHERE conversation_id = ? AND client_message_id = ? ORDER BY id DESC LIMIT 1',
      [conversationId, clientMessageId],
    );
    const row = rows[0];
    return row ? { id: row.id, parentId: row.parent_id, role: row.role, status: row.status } : null;
  }

  /** The end of the conversation's active path; null while it has no messages. */
  async activeLeaf(conversationId: string): Promise<number | null> {
    const rows = await this.sql.execute<{ active_message_id: number | null }>('SELECT active_message_id FROM conversations WHERE id = ?', [conversationId]);
    return this.leafOf(conversationId, rows[0]?.active_message_id ?? null);
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

  /**
   * Makes the path through `messageId` the active one, continued down to the newest leaf under
   * it (the newest child at each step); returns that leaf, or null if the message is not in this
   * conversation. Under the conversation's lock, so no exchange lands in between.
   */
  activate(conversationId: string, messageId: number): Promise<number | null> {
    return this.sql.transaction(async (manager) => {
      await this.lockConversation(conversationId, manager);
      const [{ leaf }] = await this.sql.execute<{ leaf: number | null }>(NEWEST_LEAF_BELOW, [messageId, conversationId, conversationId], manager);
      if (leaf === null) return null;
      await this.sql.execute('UPDATE conversations SET active_message_id = ? WHERE id = ?', [leaf, conversationId], manager);
      return leaf;
    });
  }

  /** The ids of the messages that follow `parentId` (the first prompts for null), oldest first. */
  private async childIds(conversationId: string, parentId: number | null, manager?: EntityManager): Promise<number[]> {
    const rows = await this.sql.execute<{ id: number }>(
      parentId === null
        ? 'SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS NULL ORDER BY id'
        : 'SELECT id FROM messages WHERE conversation_id = ? AND parent_id = ? ORDER BY id',
      parentId === null ? [conversationId] : [conversationId, parentId],
      manager,
    );
    return rows.map((row) => row.id);
  }

  /** Fills in each message's `siblingIds`: one read of the children of the parents on the page (and one of the first prompts, when one is on it). */
  private async withSiblings<T extends { readonly id: number; readonly parentId: number | null; siblingIds?: readonly number[] }>(conversationId: string, messages: T[]): Promise<T[]> {
    const parents = [...new Set(messages.map((m) => m.parentId).filter((id) => id !== null))];
    const byParent = new Map<number | null, number[]>();
    if (parents.length > 0) {
      const children = await this.sql.tuples<readonly [parentId: number, id: number]>(
        this.sql.isSqlite ? CHILDREN_OF.sqlite : CHILDREN_OF.postgres,
        [conversationId, this.sql.isSqlite ? JSON.stringify(parents) : parents],
      );
      for (const [parentId, id] of children) {
        const ids = byParent.get(parentId);
        if (ids) ids.push(id);
        else byParent.set(parentId, [id]);
      }
    }
    if (messages.some((m) => m.parentId === null)) byParent.set(null, await this.childIds(conversationId, null));
    for (const message of messages) message.siblingIds = byParent.get(message.parentId) ?? [message.id];
    return messages;
  }

  /** The stored active leaf, or for rows written without one (by hand, say) the newest message. */
  private async leafOf(conversationId: string, stored: number | null, manager?: EntityManager): Promise<number | null> {
    if (stored !== null) return stored;
    const rows = await this.sql.execute<{ id: number | null }>('SELECT MAX(id) AS id FROM messages WHERE conversation_id = ?', [conversationId], manager);
    return rows[0]?.id ?? null;
  }

  /** Locks the conversation's row until the transaction ends; returns its last activity time and active leaf. */
  private async lockConversation(conversationId: string, manager?: EntityManager): Promise<{ updatedAt: string; activeMessageId: number | null } | undefined> {
    const lock = this.sql.locksRows ? ' FOR UPDATE' : '';
    const rows = await this.sql.execute<{ updated_at: string; active_message_id: number | null }>(
      `SELECT updated_at, active_message_id FROM conversations WHERE id = ?${lock}`,
      [conversationId],
      manager,
    );
    const row = rows[0];
    return row && { updatedAt: row.updated_at, activeMessageId: row.active_message_id };
  }

  private async insert(conversationId: string, messages: readonly NewMessage[], parentId: number | null, floor: string | undefined, manager?: EntityManager) {
    const createdAt = nextTimestamp();
    const saved: MessageEntity[] = [];
    let previous = floor;
    let parent = parentId;
    // One INSERT each, in order, so ids follow the list.
    for (const message of messages) {
      const timestamp = previous !== undefined && message.timestamp <= previous ? timestampAfter(previous) : message.timestamp;
      previous = timestamp;
      const row = {
        conversationId,
        parentId: parent,
        clientMessageId: message.clientMessageId ?? null,
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
        `INSERT INTO messages (conversation_id, parent_id, client_message_id, role, content, status, timestamp, model, error, created_at, instance_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [conversationId, row.parentId, row.clientMessageId, row.role, row.content, row.status, row.timestamp, row.model, row.error, row.createdAt, row.instanceId],
        manager,
      );
      saved.push(Object.assign(new MessageEntity(), row, { id }));
      parent = id;
    }
    return saved;
  }

  /**
   * Marks activity on the conversation (never earlier than `notBefore`, the newest message's
   * timestamp), gives an untitled one `title`, and moves its active leaf to `activeMessageId`.
   */
  private async touch(
    conversationId: string,
    manager?: EntityManager,
    changes: { notBefore?: string; title?: string; activeMessageId?: number } = {},
  ): Promise<void> {
    const now = nextTimestamp();
    const { notBefore } = changes;
    const updatedAt = notBefore !== undefined && now <= notBefore ? timestampAfter(notBefore) : now;
    // Only ever forward: another instance, its clock ahead of ours, may have written later.
    await this.sql.execute(
      `UPDATE conversations SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END, title = COALESCE(title, ?),
         active_message_id = COALESCE(?, active_message_id) WHERE id = ?`,
      [updatedAt, updatedAt, changes.title ?? null, changes.activeMessageId ?? null, conversationId],
      manager,
    );
  }
}
