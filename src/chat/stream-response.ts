import { HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { errorBody } from '../common/http-error.filter.js';
import type { ReplyEvent } from './chat.service.js';
import type { ReplyFormat } from './reply-formats.js';

/**
 * Writes a streamed body chunk by chunk, each whole in one write. Behind a slow client, a chunk
 * still waiting to be written is replaced by a newer one with the same replaceKey (the seed's
 * cumulative lines), so the server never queues O(answer²) bytes for a reader that lags.
 */
export class StreamWriter {
  private readonly queue: { data: string; replaceKey: string | undefined }[] = [];
  private waiting = false;
  private ended = false;
  private lastWriteAt = performance.now();
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly res: Response,
    headers: Readonly<Record<string, string>>,
    keepAlive?: { readonly data: string; readonly intervalMs: number },
  ) {
    res.status(200).set(headers);
    if (keepAlive) {
      // While the model thinks, a quiet stream would be cut by proxies with idle timeouts.
      this.keepAliveTimer = setInterval(() => {
        if (performance.now() - this.lastWriteAt >= keepAlive.intervalMs) this.write(keepAlive.data);
      }, keepAlive.intervalMs / 2);
      this.keepAliveTimer.unref();
      res.once('close', () => clearInterval(this.keepAliveTimer));
    }
  }

  write(data: string, replaceKey?: string): void {
    if (this.ended || this.res.destroyed) return;
    this.lastWriteAt = performance.now();
    if (!this.waiting) {
      if (!this.res.write(data)) this.waitForDrain();
      return;
    }
    const last = this.queue.at(-1);
    if (replaceKey !== undefined && last?.replaceKey === replaceKey) last.data = data;
    else this.queue.push({ data, replaceKey });
  }

  end(): void {
    clearInterval(this.keepAliveTimer);
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

const logger = new Logger('ReplyStream');

/**
 * Sends an answer's events in a wire format. Status and headers go out with the first chunk,
 * so a failure before it still gets a proper JSON error; the subscription ends when the client
 * goes away, which aborts the model call behind it.
 */
export function sendReply(events: Observable<ReplyEvent>, format: ReplyFormat, res: Response, keepAliveMs: number): void {
  let writer: StreamWriter | undefined;
  const open = () => (writer ??= new StreamWriter(res, format.headers, { data: format.keepAlive, intervalMs: keepAliveMs }));
  const subscription = events.subscribe({
    next: (event) => {
      const out = open();
      for (const chunk of format.encode(event)) out.write(chunk.data, chunk.replaceKey);
    },
    complete: () => {
      const out = open();
      if (format.trailer) out.write(format.trailer);
      out.end();
    },
    error: (error: unknown) => {
      if (writer) return writer.end();
      if (!(error instanceof HttpException)) logger.error(`Could not start an answer: ${String(error)}`);
      const body =
        error instanceof HttpException
          ? errorBody(error)
          : { statusCode: 503, error: 'Service Unavailable', message: 'The prompt could not be stored; nothing was sent to the model. Try again.' };
      res.status(body.statusCode).json(body);
    },
  });
  if (res.destroyed) subscription.unsubscribe();
  else res.on('close', () => subscription.unsubscribe());
}

/**
 * Writes chunks from an async source as they come, waiting whenever the client lags, so a
 * long history streams in constant memory. Stops reading the source if the client leaves.
 */
export async function writeChunks(res: Response, headers: Readonly<Record<string, string>>, chunks: AsyncIterable<string>): Promise<void> {
  res.status(200).set(headers);
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
  } catch (error) {
    if (!res.headersSent) throw error; // nothing sent yet: the exception filter answers
    logger.error(`Stream failed midway: ${String(error)}`);
    res.destroy(); // the client sees a broken body, not a complete-looking one
    return;
  }
  res.end();
}

function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
