import type { Response } from 'express';
import type { Observable } from 'rxjs';
import type { ChatLine } from './chat-line.js';

/** Keep proxies and compression from holding back the stream; stop browsers guessing the type. */
export const STREAM_HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
} as const;

/**
 * Writes ndjson lines, each whole in one write. Behind a slow client, a cumulative line still
 * waiting to be written is replaced by its successor for the same message: the newer line
 * carries all the text, so the server never queues O(answer²) bytes for a reader that lags.
 */
export class NdjsonWriter {
  private readonly queue: { data: string; replaceKey: string | undefined }[] = [];
  private waiting = false;
  private ended = false;

  constructor(private readonly res: Response) {
    res.status(200).set(STREAM_HEADERS);
  }

  write(data: string, replaceKey?: string): void {
    if (this.ended || this.res.destroyed) return;
    if (!this.waiting) {
      if (!this.res.write(data)) this.waitForDrain();
      return;
    }
    const last = this.queue.at(-1);
    if (replaceKey !== undefined && last?.replaceKey === replaceKey) last.data = data;
    else this.queue.push({ data, replaceKey });
  }

  end(): void {
    this.ended = true;
    if (!this.waiting) this.res.end();
  }

  private waitForDrain(): void {
    this.waiting = true;
    this.res.once('drain', () => {
      this.waiting = false;
      while (this.queue.length > 0) {
        if (!this.res.write(this.queue.shift()!.data)) return this.waitForDrain();
      }
      if (this.ended) this.res.end();
    });
  }
}

/**
 * Sends an Observable of chat lines as the response body. The status and headers go out
 * with the first line, so a failure before it can still answer with a JSON error; the
 * subscription ends when the client goes away, which cancels the work behind it.
 */
export function sendChatLines(
  lines: Observable<ChatLine>,
  res: Response,
  onEarlyFailure: (error: unknown) => void,
): void {
  let writer: NdjsonWriter | undefined;
  const subscription = lines.subscribe({
    next: (line) => {
      writer ??= new NdjsonWriter(res);
      // Successive model lines of one answer are cumulative, so only the newest matters.
      writer.write(`${JSON.stringify(line)}\n`, line.role === 'model' ? line.timestamp : undefined);
    },
    complete: () => (writer ?? new NdjsonWriter(res)).end(),
    error: (error: unknown) => {
      if (writer) writer.end();
      else onEarlyFailure(error);
    },
  });
  if (res.destroyed) subscription.unsubscribe();
  else res.on('close', () => subscription.unsubscribe());
}
