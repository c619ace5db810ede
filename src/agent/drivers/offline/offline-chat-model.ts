import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatModel, ModelChunk, ModelRequest } from '../../chat-model.js';

const QUOTE_MAX_CHARS = 280;

/**
 * The embedded default when no model server is configured, like pydantic-ai's TestModel:
 * a deterministic answer, streamed word by word through the same path as a real model.
 */
export class OfflineChatModel implements ChatModel {
  readonly name = 'offline';
  readonly offline = true;

  constructor(private readonly wordDelayMs = 15) {}

  streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    // Decided here, outside the generator: a generator keeps its arguments (the conversation) until it ends.
    const call = offlineToolCall(request);
    // Through the same loop as a real model's calls: one step asks for the tool, the next reads its result.
    const chunks: ModelChunk[] = call
      ? [{ toolCall: { index: 0, id: `call_offline_${request.turns.length}`, name: call.name, arguments: JSON.stringify(call.args) } }, { finish: { reason: 'tool_calls' } }]
      : offlineAnswer(request)
          .split(/(?<=\s)/)
          .map((word) => ({ text: word }));
    return this.paced(chunks, signal);
  }

  /** Each word after `wordDelayMs`, as a model streams them. */
  private async *paced(chunks: readonly ModelChunk[], signal: AbortSignal): AsyncIterable<ModelChunk> {
    for (const chunk of chunks) {
      if ('text' in chunk && this.wordDelayMs > 0) {
        try {
          await sleep(this.wordDelayMs, undefined, { signal });
        } catch {
          return; // aborted
        }
      }
      if (signal.aborted) return;
      yield chunk;
    }
  }
}

const ASKS_FOR_TIME = /\b(what(?:'s| is)? (?:the )?(?:time|date|day)|time is it|today's date|what day)\b/i;
const ASKS_TO_SEARCH = /^\s*(?:search|find)(?: (?:my )?(?:history|earlier messages|conversations))?(?: for)?[\s:]+(.+)$/i;

/** The tool call the offline model makes for a prompt, when the tool is on: the time for a time question, a history search for "search …". */
export function offlineToolCall(request: ModelRequest): { name: string; args: Record<string, unknown> } | undefined {
  const last = request.turns.at(-1);
  if (last?.role !== 'user') return undefined;
  const offered = new Set(request.tools?.map((tool) => tool.name));
  if (offered.has('current_time') && ASKS_FOR_TIME.test(last.content)) return { name: 'current_time', args: {} };
  const search = ASKS_TO_SEARCH.exec(last.content);
  if (offered.has('search_history') && search) return { name: 'search_history', args: { query: search[1].trim().slice(0, 200) } };
  return undefined;
}

export function offlineAnswer(request: ModelRequest): string {
  const turns = request.turns;
  const last = turns.at(-1);
  if (last?.role === 'tool') {
    const call = turns.flatMap((turn) => (turn.role === 'model' ? (turn.toolCalls ?? []) : [])).find((c) => c.id === last.toolCallId);
    return [
      `**Offline model.** I called the \`${call?.name ?? 'unknown'}\` tool, and it answered:`,
      '',
      '```json',
      last.content.length > 2_000 ? `${last.content.slice(0, 2_000)}…` : last.content,
      '```',
    ].join('\n');
  }
  const prompt = turns.at(-1)?.role === 'user' ? turns.at(-1)!.content.trim() : '';
  const earlier = Math.max(0, turns.length - 1);
  const clipped = prompt.length > QUOTE_MAX_CHARS ? `${prompt.slice(0, QUOTE_MAX_CHARS)}…` : prompt;
  const quote = clipped
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
  return [
    '**Offline model.** No language model is configured, so this built-in stand-in is answering.',
    '',
    `You wrote ${prompt.length} characters:`,
    '',
    quote,
    '',
    `This conversation has ${earlier} earlier ${earlier === 1 ? 'message' : 'messages'}. To chat with a real model, restart the server with one of:`,
    '',
    '- `OPENAI_API_KEY=sk-…` for OpenAI (choose the model with `OPENAI_MODEL`)',
    '- `OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=llama3.2` for Ollama, or the URL of any OpenAI-compatible server (vLLM, llama.cpp, LM Studio)',
  ].join('\n');
}
