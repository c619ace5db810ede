import type { SeedLine } from '../contract/api-shapes.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import { type AnswerStreamFormat, NO_BUFFERING, ndjsonLine, type WireChunk } from '../streaming/answer-stream-format.js';
import type { AnswerEvent } from './answer-run.js';

export const SEED_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', ...NO_BUFFERING } as const;

/**
 * The seed's format: the user line, then model lines each carrying all the text so far (one
 * timestamp per answer, the full text last), or an error line. The original page renders it.
 * `GET /chat/` sends stored messages in the same lines (src/persistence/seed-lines.ts).
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
        return [{ data: ndjsonLine(seedLineOf('user', event.prompt.timestamp, event.prompt.content)) }];
      case 'text':
        this.sentText = true;
        return [{ data: ndjsonLine(seedLineOf('model', this.answerTimestamp, event.text)), replaceKey: this.answerTimestamp }];
      case 'done':
        // An empty answer still gets its (empty) line, so the client sees the answer ended.
        return this.sentText ? [] : [{ data: ndjsonLine(seedLineOf('model', this.answerTimestamp, event.answer.content)) }];
      case 'error':
        return [{ data: ndjsonLine(seedLineOf('error', nextTimestamp(), event.message)) }];
      default:
        return []; // the original page shows text only; tool steps show in the text that follows them
    }
  }
}

function seedLineOf(role: SeedLine['role'], timestamp: string, content: string): SeedLine {
  return { role, timestamp, content };
}
