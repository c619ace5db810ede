import { type AnswerPart, answerTurns } from '../agent/answer-parts.js';
import type { ConversationTurn } from '../agent/chat-model.js';
import type { ContextRow } from '../persistence/message.repository.js';

/** Rows per read: most answers' budgets are spent within one or two pages. */
export const CONTEXT_PAGE_SIZE = 64;

/** A message of a conversation's path as an answer's context uses it: what the model reads of it, and what that costs. */
export class ContextEntry {
  private made: readonly ConversationTurn[] | undefined;

  private constructor(
    readonly id: number,
    readonly conversationId: string,
    readonly parentId: number | null,
    /** What the model reads of the message; null when nothing (an answer still streaming, or one that failed before any text or tool call). */
    private readonly message: Pick<ContextRow, 'role' | 'content' | 'parts'> | null,
    /** The message's cost against the context's budget, in estimated tokens. */
    readonly tokens: number,
  ) {}

  /** The entry for a row of conversation `conversationId`. */
  static of(conversationId: string, row: ContextRow, estimateTokens: (content: string) => number): ContextEntry {
    const seen = row.status !== 'streaming' && (row.content.length > 0 || row.parts !== null);
    return new ContextEntry(row.id, conversationId, row.parentId, seen ? { role: row.role, content: row.content, parts: row.parts } : null, seen ? estimateTokens(row.parts ?? row.content) : 0);
  }

  get seen(): boolean {
    return this.message !== null;
  }

  /** Prompts as they are, answers with their tool steps (answerTurns); made when first asked for, for the messages an answer picks. */
  get turns(): readonly ConversationTurn[] {
    if (this.made) return this.made;
    const message = this.message;
    if (!message) return (this.made = []);
    this.made =
      message.role === 'user' ? [{ role: 'user', content: message.content }] : answerTurns(message.content, message.parts ? (JSON.parse(message.parts) as AnswerPart[]) : null);
    return this.made;
  }
}

/**
 * The turns of the newest messages of the path up from `fromId` (the new prompt, included) that
 * fit `maxTokens`, oldest first. Reads the path a page at a time, newest first (`readPage` may
 * return fewer than `limit` entries; an empty page ends the path), and stops at the budget, so the
 * work depends on the budget, not on the length of the conversation or the size of its tree. The
 * newest message is always included, even alone over the budget; messages the model sees nothing
 * of are skipped; an answer's tool calls and results count against the budget with its text.
 */
export async function boundedContext(
  readPage: (fromId: number, limit: number) => Promise<readonly ContextEntry[]> | readonly ContextEntry[],
  fromId: number,
  maxTokens: number,
): Promise<ConversationTurn[]> {
  const picked: ContextEntry[] = [];
  let budget = maxTokens;
  let cursor: number | null = fromId;
  walk: while (cursor !== null) {
    const page = await readPage(cursor, CONTEXT_PAGE_SIZE);
    for (const entry of page) {
      if (!entry.seen) continue;
      if (entry.tokens > budget && picked.length > 0) break walk;
      budget -= entry.tokens;
      picked.push(entry);
    }
    cursor = page.length > 0 ? page[page.length - 1].parentId : null;
  }
  const turns: ConversationTurn[] = [];
  for (let i = picked.length - 1; i >= 0; i--) for (const turn of picked[i].turns) turns.push(turn);
  return turns;
}
