import type { AnswerEvent } from '../chat/answer-run.js';

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
export const NO_BUFFERING = {
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const;

/** One line of newline-delimited JSON. */
export const ndjsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;

/** The new part of a cumulative text: what arrived since the last call. */
export class TextDelta {
  private sentLength = 0;

  next(text: string): string {
    const delta = text.slice(this.sentLength);
    this.sentLength = text.length;
    return delta;
  }
}
