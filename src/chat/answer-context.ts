import { type AnswerPart, answerTurns } from '../agent/answer-parts.js';
import type { ConversationTurn } from '../agent/chat-model.js';
import type { ContextMessage, ContextPage } from '../persistence/message.repository.js';

/** Rows per read: most answers' budgets are spent within one or two pages. */
export const CONTEXT_PAGE_SIZE = 64;

/**
 * The newest messages of the path up from `fromId` (the new prompt, included) that fit
 * `maxTokens`, oldest first. Reads the path a page at a time, newest first, and stops at the
 * budget, so the work depends on the budget, not on the length of the conversation or the
 * size of its tree. The newest message is always included, even alone over the budget;
 * messages with nothing in them (failed before any text or tool call) are skipped; an answer's
 * tool calls and results count against the budget with its text.
 */
export async function boundedContext(
  readPage: (fromId: number, limit: number) => Promise<ContextPage> | ContextPage,
  fromId: number,
  maxTokens: number,
  estimateTokens: (content: string) => number,
): Promise<ContextMessage[]> {
  const picked: ContextMessage[] = [];
  let budget = maxTokens;
  let cursor: number | null = fromId;
  while (cursor !== null) {
    const page: ContextPage = await readPage(cursor, CONTEXT_PAGE_SIZE);
    for (const message of page.messages) {
      if (message.content.length === 0 && !message.parts) continue;
      const cost = estimateTokens(message.parts ?? message.content);
      if (cost > budget && picked.length > 0) return picked.reverse();
      budget -= cost;
      picked.push(message);
    }
    cursor = page.next;
  }
  return picked.reverse();
}

/** The messages as the model reads them: prompts as they are, answers with their tool steps (answerTurns). */
export function contextTurns(messages: readonly ContextMessage[]): ConversationTurn[] {
  return messages.flatMap((message): ConversationTurn[] =>
    message.role === 'user'
      ? [{ role: 'user', content: message.content }]
      : answerTurns(message.content, message.parts ? (JSON.parse(message.parts) as AnswerPart[]) : null),
  );
}
