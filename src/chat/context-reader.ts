import { Inject, Injectable } from '@nestjs/common';
import type { ConversationTurn } from '../agent/chat-model.js';
import { estimateTokens } from '../agent/token-estimate.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import { type ContextRow, MessageRepository } from '../persistence/message.repository.js';
import { boundedContext, ContextEntry } from './answer-context.js';
import { ContextCache } from './context-cache.js';

/**
 * Messages read from the database first when a walk starts outside memory: the newest, which
 * no earlier answer read (an answer finished on another instance, say); above them the path is
 * usually in the cache.
 */
const NEWEST_UNREAD = 2;

/**
 * A message that will not change any more: its writer stored it. A streaming answer keeps its
 * writer's id until then, and so does one that a sweep marked interrupted while its instance
 * looked gone, since that instance, if it was only slow, still stores the answer over the mark.
 */
const isSettled = (row: ContextRow) => row.status !== 'streaming' && row.instanceId === null;

/** A message this process stored, as contextPath would read it (an entity fresh from an insert has no `parts` yet). */
const rowOf = (message: MessageEntity): ContextRow => ({
  id: message.id,
  parentId: message.parentId,
  role: message.role,
  content: message.content,
  parts: message.parts ?? null,
  status: message.status,
  instanceId: message.instanceId ?? null,
});

/**
 * An answer's context (boundedContext), read from memory where it can be: the path above a new
 * prompt is the path the conversation's previous answer read, plus that answer and the prompt.
 * Settled messages are kept in a cache (ContextCache, CONTEXT_CACHE_MB) when a walk reads them,
 * when a prompt is stored and when this process stores an answer; the answers this process is
 * writing are known until they are stored (as nothing to read yet); the database is read for
 * the rest. Entries are by id, which the database never gives out twice; a walk checks that its
 * first message is of the conversation asked for, and each parent is of its child's.
 */
@Injectable()
export class ContextReader {
  private readonly cache: ContextCache;
  private readonly maxTokens: number;
  /** The answers this process is writing, which walks pass through without a read. */
  private readonly writing = new Map<number, ContextEntry>();

  constructor(
    private readonly messages: MessageRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cache = new ContextCache(config.contextCacheBytes);
    this.maxTokens = config.contextMaxTokens;
  }

  /** Bytes the cache holds, as counted against CONTEXT_CACHE_MB. */
  get cachedBytes(): number {
    return this.cache.size;
  }

  /** An answer's rows are stored (its prompt, settled, and the answer, streaming): later walks find them here. */
  answerStarted(conversationId: string, prompt: MessageEntity, answer: MessageEntity): void {
    this.entryOf(conversationId, rowOf(prompt));
    this.writing.set(answer.id, ContextEntry.of(conversationId, rowOf(answer), estimateTokens));
  }

  /**
   * The answer this process was writing is about to be stored: from now on walks read it from the
   * database, which has it streaming until the store commits, and stored after.
   */
  answerStoring(answerId: number): void {
    this.writing.delete(answerId);
  }

  /** The answer is stored: later walks find it here. */
  answerStored(conversationId: string, stored: MessageEntity): void {
    this.entryOf(conversationId, rowOf(stored));
  }

  /** The turns the model reads for the prompt `promptId` of conversation `conversationId`, within CONTEXT_MAX_TOKENS. */
  turns(conversationId: string, promptId: number): Promise<ConversationTurn[]> {
    let databaseReads = 0;
    return boundedContext(
      async (fromId, limit) => {
        const known = this.knownPath(conversationId, fromId, limit);
        if (known.length > 0) return known;
        const rows = await this.messages.contextPath(conversationId, fromId, this.cache.enabled && databaseReads++ === 0 ? NEWEST_UNREAD : limit);
        return rows.map((row) => this.entryOf(conversationId, row));
      },
      promptId,
      this.maxTokens,
    );
  }

  /** Up to `limit` entries of the path from `fromId` known here, stopping at the first that is not. */
  private knownPath(conversationId: string, fromId: number, limit: number): ContextEntry[] {
    const entries: ContextEntry[] = [];
    let entry = this.known(fromId);
    // Parents are of their child's conversation: only where the walk starts is there anything to check.
    if (entry?.conversationId !== conversationId) return entries;
    while (entry && entries.length < limit) {
      entries.push(entry);
      entry = entry.parentId === null ? undefined : this.known(entry.parentId);
    }
    return entries;
  }

  private known(id: number): ContextEntry | undefined {
    return this.cache.get(id) ?? this.writing.get(id);
  }

  /** The row's entry: the cached one when there is one (answers share it), else a new one, kept if the row is settled. */
  private entryOf(conversationId: string, row: ContextRow): ContextEntry {
    const cached = this.cache.get(row.id);
    if (cached) return cached;
    const entry = ContextEntry.of(conversationId, row, estimateTokens);
    if (isSettled(row)) this.cache.keep(entry, row.content.length + (row.parts?.length ?? 0));
    return entry;
  }
}
