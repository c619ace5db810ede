import { constants as zlib, createGzip, type Gzip } from 'node:zlib';
import { HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { answerStarted } from '../access/answer-quota.js';
import { sendError } from '../common/http-error.filter.js';
import type { AnswerEvent } from '../chat/answer-run.js';
import type { AnswerStreamFormat } from './answer-stream-format.js';

/**
 * gzip for a stream: fast (level 1) and small (a 4 KiB window is plenty for lines that repeat
 * their envelope, and keeps each stream's zlib state near 30 KiB); flushed after every chunk,
 * so nothing waits in the compressor.
 */
const STREAM_GZIP = { level: 1, windowBits: 12, memLevel: 4, chunkSize: 4096 } as const;

/** Whether the request accepts a gzip response (and does not refuse it with q=0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

/**
 * Writes a streamed body chunk by chunk, each whole in one write. Behind a slow client, a chunk
 * still waiting to be written is replaced by a newer one with the same replaceKey (the seed's
 * cumulative lines), so the server never queues O(answer²) bytes for a reader that lags.
 * With `gzip`, chunks go through a compressor that is flushed after each one.
 */
export class StreamWriter {
  private readonly queue: { data: string; replaceKey: string | undefined }[] = [];
  private waiting = false;
  private ended = false;
  private lastWriteAt = performance.now();
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private readonly gzip: Gzip | undefined;

  constructor(
    private readonly res: Response,
    headers: Readonly<Record<string, string>>,
    keepAlive?: { readonly data: string; readonly intervalMs: number },
    gzip = false,
  ) {
    res.status(200).set(headers);
    if (gzip) {
      res.set({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      this.gzip = createGzip(STREAM_GZIP);
      this.gzip.pipe(res);
      res.once('close', () => this.gzip?.destroy());
    }
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
      if (!this.send(data)) this.waitForDrain();
      return;
    }
    const last = this.queue.at(-1);
    if (replaceKey !== undefined && last?.replaceKey === replaceKey) last.data = data;
    else this.queue.push({ data, replaceKey });
  }

  /**
   * Sends what was written now instead of at the end of this tick. Node's HTTP response corks its
   * socket on a write until the next tick, and a tick here can go on long after the write: the
   * start line is written in the middle of an answer's set-up (its context is read and the model's
   * request built in the same chain of promises), all of which the client's first byte waited for.
   */
  flush(): void {
    const socket = this.res.socket;
    if (!this.gzip && !this.waiting && socket && socket.writableCorked > 0) socket.uncork();
  }

  end(): void {
    clearInterval(this.keepAliveTimer);
    this.ended = true;
    if (!this.waiting) (this.gzip ?? this.res).end();
  }

  /** Writes one chunk; false when the client (or the compressor) wants us to wait. */
  private send(data: string): boolean {
    if (!this.gzip) return this.res.write(data);
    const ok = this.gzip.write(data);
    // Every byte written so far becomes decodable, for 2 bytes less per line than a sync flush.
    this.gzip.flush(zlib.Z_PARTIAL_FLUSH);
    return ok;
  }

  private waitForDrain(): void {
    this.waiting = true;
    (this.gzip ?? this.res).once('drain', () => {
      this.waiting = false;
      while (this.queue.length > 0) {
        if (!this.send(this.queue.shift()!.data)) return this.waitForDrain();
      }
      if (this.ended) (this.gzip ?? this.res).end();
    });
  }
}

const logger = new Logger('AnswerStream');

/**
 * Sends an answer's events in a wire format. Status and headers go out with the first chunk,
 * so a failure before it still gets a proper JSON error; the subscription ends when the client
 * goes away, which aborts the model call behind it.
 */
export function sendAnswer(events: Observable<AnswerEvent>, format: AnswerStreamFormat, res: Response, keepAliveMs: number): void {
  let writer: StreamWriter | undefined;
  const gzip = format.compressible && acceptsGzip(res.req.headers['accept-encoding']);
  const open = () => (writer ??= new StreamWriter(res, format.headers, { data: format.keepAlive, intervalMs: keepAliveMs }, gzip));
  const subscription = events.subscribe({
    next: (event) => {
      if (event.type === 'start') answerStarted(res); // the model is called next: the answer counts
      const out = open();
      for (const chunk of format.encode(event)) out.write(chunk.data, chunk.replaceKey);
      if (event.type === 'start') out.flush(); // the first byte: the prompt is stored
    },
    complete: () => {
      const out = open();
      if (format.trailer) out.write(format.trailer);
      out.end();
    },
    error: (error: unknown) => {
      if (writer) return writer.end();
      if (error instanceof HttpException) return sendError(res, error);
      logger.error(`Could not start an answer: ${String(error)}`);
      sendError(res, new ServiceUnavailableException('The prompt could not be stored; nothing was sent to the model. Try again.'));
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
