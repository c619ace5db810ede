import type { AnswerEvent } from '../chat/answer-run.js';
import type { DeltaEvent } from '../contract/api-shapes.js';
import { type AnswerStreamFormat, NO_BUFFERING, ndjsonLine, TextDelta, type WireChunk } from '../streaming/answer-stream-format.js';
import { messageJson, usageJson } from './message-json.js';

export const NDJSON_HEADERS = { 'Content-Type': 'application/x-ndjson; charset=utf-8', ...NO_BUFFERING } as const;

/**
 * The lean format: `start`, then `delta` events carrying only the new text, then `done` with the
 * stored message (all but its text, which the deltas carried) and its usage, or `error`. Costs
 * O(answer) bytes on the wire.
 */
export class DeltaFormat implements AnswerStreamFormat {
  readonly headers = NDJSON_HEADERS;
  readonly keepAlive = '\n';
  readonly compressible = true;
  private readonly delta = new TextDelta();

  encode(event: AnswerEvent): WireChunk[] {
    const chunk = (value: DeltaEvent): WireChunk[] => [{ data: ndjsonLine(value) }];
    switch (event.type) {
      case 'start':
        return chunk({ type: 'start', conversationId: event.answer.conversationId, messageId: event.answer.id, userMessage: messageJson(event.prompt) });
      case 'text': {
        const text = this.delta.next(event.text);
        return text ? chunk({ type: 'delta', text }) : [];
      }
      case 'step':
        return [];
      case 'tool-call':
        return chunk({ type: 'tool-call', toolCallId: event.toolCallId, toolName: event.toolName, input: event.input });
      case 'tool-result':
        return chunk({ type: 'tool-result', toolCallId: event.toolCallId, output: event.output });
      case 'tool-error':
        return chunk({ type: 'tool-error', toolCallId: event.toolCallId, error: event.error });
      case 'done': {
        // The text and the tool steps went out already; repeating them here would double the bytes on the wire.
        const { content: _content, parts: _parts, ...message } = messageJson(event.answer);
        return chunk({ type: 'done', message, usage: usageJson(event.answer) });
      }
      case 'error':
        return chunk({ type: 'error', message: event.message, messageId: event.answer.id, ...(event.stopped && { stopped: true as const }) });
    }
  }
}
