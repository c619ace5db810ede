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

  async *streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    for (const word of offlineAnswer(request).split(/(?<=\s)/)) {
      if (this.wordDelayMs > 0) {
        try {
          await sleep(this.wordDelayMs, undefined, { signal });
        } catch {
          return; // aborted
        }
      }
      if (signal.aborted) return;
      yield { text: word };
    }
  }
}

export function offlineAnswer(request: ModelRequest): string {
  const turns = request.turns;
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
