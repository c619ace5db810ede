import { nextTimestamp } from '../persistence/message-clock.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import type { AnswerEvent } from '../chat/answer-run.js';
import { messageJson, usageJson } from '../conversations/message-json.js';

/** One line of the seed's ndjson: a message as the original example's page renders it. */
export interface SeedLine {
  readonly role: 'user' | 'model' | 'error';
  readonly timestamp: string;
  readonly content: string;
}

/** A chunk of the response body; chunks with the same replaceKey supersede each other while waiting for a slow client. */
export interface WireChunk {
  readonly data: string;
  readonly replaceKey?: string;
}

/** Turns the events of one answer into the chunks of one wire format. One instance per response. */
export interface AnswerStreamFormat {
  readonly headers: Readonly<Record<string, string>>;
  encode(event: AnswerEvent): WireChunk[];
  /** What closes the body after the last event, if anything. */
  readonly trailer?: string;
  /** Sent while the stream is quiet; readers skip it (the seed page skips lines of one character). */
  readonly keepAlive: string;
  /**
   * Whether to gzip the stream for clients that accept it (flushed line by line). Not the seed
   * format: its lines repeat the whole text, so compressing them costs CPU with the square of
   * the answer; the delta formats carry each byte once.
   */
  readonly compressible: boolean;
}

/** Keep proxies and compression from holding back the stream (helmet adds nosniff to every response). */
const NO_BUFFERING = {
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const;

export const SEED_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', ...NO_BUFFERING } as const;
export const NDJSON_HEADERS = { 'Content-Type': 'application/x-ndjson; charset=utf-8', ...NO_BUFFERING } as const;

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

/**
 * The seed's format: the user line, then model lines each carrying all the text so far (one
 * timestamp per answer, the full text last), or an error line. The original page renders it.
 */
export class SeedFormat implements AnswerStreamFormat {
  readonly headers = SEED_HEADERS;
  readonly keepAlive = '\n';
  readonly compressible = false;
  private answerTimestamp = '';
  private sentText = false;

  encode(event: AnswerEvent): WireChunk[] {
    switch (event.type) {
      case 'start':
        this.answerTimestamp = event.answer.timestamp;
        return [{ data: line(seedLineOf('user', event.prompt.timestamp, event.prompt.content)) }];
      case 'text':
        this.sentText = true;
        return [{ data: line(seedLineOf('model', this.answerTimestamp, event.text)), replaceKey: this.answerTimestamp }];
      case 'done':
        // An empty answer still gets its (empty) line, so the client sees the answer ended.
        return this.sentText ? [] : [{ data: line(seedLineOf('model', this.answerTimestamp, event.answer.content)) }];
      case 'error':
        return [{ data: line(seedLineOf('error', nextTimestamp(), event.message)) }];
    }
  }
}

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
    switch (event.type) {
      case 'start':
        return [
          {
            data: line({
              type: 'start',
              conversationId: event.answer.conversationId,
              messageId: event.answer.id,
              userMessage: messageJson(event.prompt),
            }),
          },
        ];
      case 'text': {
        const text = this.delta.next(event.text);
        return text ? [{ data: line({ type: 'delta', text }) }] : [];
      }
      case 'done': {
        // The text went out as deltas already; repeating it here would double the bytes on the wire.
        const { content: _content, ...message } = messageJson(event.answer);
        return [{ data: line({ type: 'done', message, usage: usageJson(event.answer) }) }];
      }
      case 'error':
        return [{ data: line({ type: 'error', message: event.message, messageId: event.answer.id }) }];
    }
  }
}

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
        return [sse({ type: 'text-end', id: this.textId }), sse({ type: 'error', errorText: event.message })];
    }
  }
}

/** The new part of a cumulative text: what arrived since the last call. */
class TextDelta {
  private sentLength = 0;

  next(text: string): string {
    const delta = text.slice(this.sentLength);
    this.sentLength = text.length;
    return delta;
  }
}

function seedLineOf(role: SeedLine['role'], timestamp: string, content: string): SeedLine {
  return { role, timestamp, content };
}

/** A stored message as a line of the seed's ndjson. */
export function seedLine(message: MessageEntity): string {
  return line(seedLineOf(message.role, message.timestamp, message.content));
}
