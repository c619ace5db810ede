import { type AnswerPart, answerTurns } from '../agent/answer-parts.js';
import type { ConversationTurn } from '../agent/chat-model.js';
import type { ContextRow } from '../persistence/message.repository.js';

/** Rows per read: most answers' budgets are spent within one or two pages. */
export const CONTEXT_PAGE_SIZE = 64;

/** A message of a conversation's path as an answer's context uses it: what the model reads of it, and what that costs. */
export interface ContextEntry {
  readonly id: number;
  readonly conversationId: string;
  readonly parentId: number | null;
  /** Empty when the model sees nothing of the message: an answer still streaming, or one that failed before any text or tool call. */
  readonly turns: readonly ConversationTurn[];
  /** The turns' cost against the context's budget, in estimated tokens. */
  readonly tokens: number;
}

/** The entry for a row of conversation `conversationId`: prompts as they are, answers with their tool steps (answerTurns). */
export function contextEntry(conversationId: string, row: ContextRow, estimateTokens: (content: string) => number): ContextEntry {
  const seen = row.status !== 'streaming' && (row.content.length > 0 || row.parts !== null);
  return {
    id: row.id,
    conversationId,
    parentId: row.parentId,
    turns: !seen ? [] : row.role === 'user' ? [{ role: 'user', content: row.content }] : answerTurns(row.content, row.parts ? (JSON.parse(row.parts) as AnswerPart[]) : null),
    tokens: seen ? estimateTokens(row.parts ?? row.content) : 0,
  };
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
      if (entry.turns.length === 0) continue;
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
