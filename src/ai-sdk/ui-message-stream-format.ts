import { argumentsText } from '../agent/answer-parts.js';
import type { AnswerEvent } from '../chat/answer-run.js';
import { type AnswerStreamFormat, NO_BUFFERING, TextDelta, type WireChunk } from '../streaming/answer-stream-format.js';

/**
 * The Vercel AI SDK's UI message stream (SSE), as `useChat` with `DefaultChatTransport` reads it:
 * start, then for each model call start-step, its text (text-start, text-delta…, text-end) and
 * its tool calls (tool-input-start, -delta, -available, then tool-output-available or
 * tool-output-error), finish-step; then finish (or error, or abort for a stop), then [DONE].
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
  private answerId = 0;
  /** The open text part's id, if one is open; each run of text between tool calls is its own part. */
  private openText: string | undefined;
  private textParts = 0;
  private stepOpen = false;

  encode(event: AnswerEvent): WireChunk[] {
    switch (event.type) {
      case 'start':
        this.answerId = event.answer.id;
        return [sse({ type: 'start', messageId: String(event.answer.id) })];
      case 'step': {
        const out = [...this.closeStep(), sse({ type: 'start-step' })];
        this.stepOpen = true;
        return out;
      }
      case 'text': {
        const delta = this.delta.next(event.text);
        if (!delta) return [];
        const out: WireChunk[] = [];
        if (!this.openText) {
          this.openText = `text-${this.answerId}-${++this.textParts}`;
          out.push(sse({ type: 'text-start', id: this.openText }));
        }
        out.push(sse({ type: 'text-delta', id: this.openText, delta }));
        return out;
      }
      case 'tool-call':
        return [
          ...this.closeText(),
          sse({ type: 'tool-input-start', toolCallId: event.toolCallId, toolName: event.toolName }),
          sse({ type: 'tool-input-delta', toolCallId: event.toolCallId, inputTextDelta: argumentsText(event.input) }),
          sse({ type: 'tool-input-available', toolCallId: event.toolCallId, toolName: event.toolName, input: event.input }),
        ];
      case 'tool-result':
        return [sse({ type: 'tool-output-available', toolCallId: event.toolCallId, output: event.output })];
      case 'tool-error':
        return [sse({ type: 'tool-output-error', toolCallId: event.toolCallId, errorText: event.error })];
      case 'done':
        return [...this.closeStep(), sse({ type: 'finish' })];
      case 'error':
        // A stop is the protocol's abort (what the client's own stop button gives), not a failure.
        return [...this.closeStep(), sse(event.stopped ? { type: 'abort' } : { type: 'error', errorText: event.message })];
    }
  }

  private closeText(): WireChunk[] {
    if (!this.openText) return [];
    const id = this.openText;
    this.openText = undefined;
    return [sse({ type: 'text-end', id })];
  }

  private closeStep(): WireChunk[] {
    const out = this.closeText();
    if (this.stepOpen) out.push(sse({ type: 'finish-step' }));
    this.stepOpen = false;
    return out;
  }
}

function sse(value: unknown): WireChunk {
  return { data: `data: ${JSON.stringify(value)}\n\n` };
}
