import type { AnswerEvent } from '../chat/answer-run.js';
import { type AnswerStreamFormat, NO_BUFFERING, TextDelta, type WireChunk } from '../streaming/answer-stream-format.js';

/**
 * The Vercel AI SDK's UI message stream (SSE), as `useChat` with `DefaultChatTransport` reads it:
 * start, text-start, text-delta…, text-end, finish, then [DONE].
 */
export class UiMessageStreamFormat implements AnswerStreamFormat {
  readonly headers = {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'x-vercel-ai-ui-message-stream': 'v1',
    ...NO_BUFFERING,
  };
  readonly trailer = 'data: [DONE]\n\n';
  readonly keepAlive = ': keep-alive\n\n'; // an SSE comment
  readonly compressible = true;
  private readonly delta = new TextDelta();
  private textId = '';

  encode(event: AnswerEvent): WireChunk[] {
    const sse = (value: unknown): WireChunk => ({ data: `data: ${JSON.stringify(value)}\n\n` });
    switch (event.type) {
      case 'start':
        this.textId = `text-${event.answer.id}`;
        return [sse({ type: 'start', messageId: String(event.answer.id) }), sse({ type: 'text-start', id: this.textId })];
      case 'text': {
        const delta = this.delta.next(event.text);
        return delta ? [sse({ type: 'text-delta', id: this.textId, delta })] : [];
      }
      case 'done':
        return [sse({ type: 'text-end', id: this.textId }), sse({ type: 'finish' })];
      case 'error':
        // A stop is the protocol's abort (what the client's own stop button gives), not a failure.
        return [sse({ type: 'text-end', id: this.textId }), sse(event.stopped ? { type: 'abort' } : { type: 'error', errorText: event.message })];
    }
  }
}
