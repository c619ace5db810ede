import { Injectable } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { MessageRepository } from '../../persistence/message.repository.js';
import { AgentTool } from '../agent-tool.decorator.js';
import type { ToolCallContext } from '../tool-source.js';

export class SearchHistoryArguments {
  /** Words to look for; every word must appear (case does not matter). */
  @IsString()
  @Length(1, 200)
  query!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  limit?: number;
}

const EXCERPT_CHARS = 300;
const MAX_WORDS = 8;

/**
 * The caller's own earlier messages that contain the words asked for, best first (most
 * occurrences, then newest), with the conversation's title and the date. Other owners' messages
 * are never read: the query is scoped to the caller's conversations. The conversation being
 * answered is left out (the model has it already, and its prompt would always match).
 */
@Injectable()
export class SearchHistoryTool {
  constructor(private readonly messages: MessageRepository) {}

  @AgentTool({
    name: 'search_history',
    description:
      "Searches the user's earlier conversations for messages containing all the given words. Returns the best matches with the conversation title and date. Use it when the user refers to something discussed before.",
    parameters: SearchHistoryArguments,
    optIn: true,
  })
  async search(args: SearchHistoryArguments, context: ToolCallContext) {
    const words = [...new Set(args.query.toLowerCase().split(/\s+/).filter(Boolean))].slice(0, MAX_WORDS);
    if (words.length === 0) return { matches: [] };
    const rows = await this.messages.search(context.ownerId, words, context.conversationId);
    const scored = rows
      .map((row) => ({ row, score: words.reduce((sum, word) => sum + occurrences(row.content.toLowerCase(), word), 0) }))
      .sort((a, b) => b.score - a.score || b.row.id - a.row.id)
      .slice(0, args.limit ?? 5);
    return {
      matches: scored.map(({ row }) => ({
        conversationId: row.conversationId,
        conversationTitle: row.title,
        role: row.role === 'user' ? 'user' : 'assistant',
        date: row.timestamp.slice(0, 10),
        excerpt: excerpt(row.content, words[0]),
      })),
    };
  }
}

function occurrences(text: string, word: string): number {
  let count = 0;
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + word.length)) count++;
  return count;
}

/** Some text around the first match, so long messages don't flood the model's context. */
function excerpt(content: string, word: string): string {
  if (content.length <= EXCERPT_CHARS) return content;
  const at = Math.max(0, content.toLowerCase().indexOf(word) - EXCERPT_CHARS / 3);
  const start = Math.min(at, content.length - EXCERPT_CHARS);
  return `${start > 0 ? '…' : ''}${content.slice(start, start + EXCERPT_CHARS)}${start + EXCERPT_CHARS < content.length ? '…' : ''}`;
}
