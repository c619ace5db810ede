/** An `event: error` from the upstream, or a data payload that is `{ "error": … }`. */
export class UpstreamStreamError extends Error {
  constructor(readonly payload: unknown) {
    super(upstreamErrorMessage(payload));
    this.name = 'UpstreamStreamError';
  }
}

/**
 * The longest event accepted from the model server: 1 MiB, in bytes before the SDK's reader
 * (eventSizeLimit) and in characters of decoded text in SseDecoder (never more than its bytes).
 * A chat.completion.chunk is a few hundred bytes; an event this long is not one, and reading on
 * would hold all of it in memory.
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** An event from the model server longer than the limit (a line that never ends, say). */
export class UpstreamEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The model server sent an event longer than ${limit} bytes`);
    this.name = 'UpstreamEventTooLargeError';
  }
}

/**
 * Splits server-sent events out of text as it arrives and returns each event's `data`: the lean
 * path for chat.completion.chunk streams (one string buffer, no web streams, no async layers of
 * its own). Comments and fields other than `data` and `event` are skipped, as the SSE spec
 * says; `event: error` throws UpstreamStreamError.
 */
export class SseDecoder {
  private buffer = '';
  /** An error event that came after data still to be returned: thrown at the next call. */
  private failure: Error | undefined;

  /** `maxEventLength`: the most characters one event may have; past it, push() throws UpstreamEventTooLargeError. */
  constructor(private readonly maxEventLength = MAX_EVENT_BYTES) {}

  /** The data of the events completed by `text`. */
  push(text: string): string[] {
    if (this.failure) throw this.failure;
    let buffer = this.buffer + text;
    // CRLF and CR end lines too; a CR at the very end may be half of a CRLF still coming.
    if (buffer.includes('\r')) buffer = buffer.replace(/\r\n|\r(?!$)/g, '\n');
    const out: string[] = [];
    let start = 0;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n', start)) !== -1) {
      let data: string | undefined;
      try {
        if (boundary - start > this.maxEventLength) throw new UpstreamEventTooLargeError(this.maxEventLength);
        data = dataOf(buffer.slice(start, boundary));
      } catch (error) {
        return this.fail(error as Error, out);
      }
      if (data !== undefined) out.push(data);
      start = boundary + 2;
    }
    // An event still open past the limit: stop here rather than hold a line that may never end.
    if (buffer.length - start > this.maxEventLength) return this.fail(new UpstreamEventTooLargeError(this.maxEventLength), out);
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    return out;
  }

  private fail(error: Error, out: string[]): string[] {
    if (out.length === 0) throw error;
    this.failure = error; // the data before it goes out first
    this.buffer = '';
    return out;
  }

  /** The data of a last event the stream ended without a blank line after. */
  end(): string[] {
    if (this.failure) throw this.failure;
    const data = dataOf(this.buffer.replace(/\r$/, ''));
    this.buffer = '';
    return data === undefined ? [] : [data];
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Passes an event stream's bytes through unchanged and fails it with UpstreamEventTooLargeError
 * once one event (the bytes between blank lines, line ends not counted) passes `maxBytes`: the
 * openai SDK's own reader keeps each event whole in memory, however long, and copies it on every
 * chunk. Failing the stream cancels its source, which closes the connection.
 */
export function eventSizeLimit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let eventBytes = 0;
  let lineBytes = 0;
  let afterCR = false;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === LF || byte === CR) {
          if (!(byte === LF && afterCR)) {
            if (lineBytes === 0) eventBytes = 0; // a blank line ends the event
            lineBytes = 0;
          }
          afterCR = byte === CR;
          continue;
        }
        afterCR = false;
        lineBytes++;
        if (++eventBytes > maxBytes) throw new UpstreamEventTooLargeError(maxBytes);
      }
      controller.enqueue(chunk);
    },
  });
}

function dataOf(event: string): string | undefined {
  if (event.startsWith('data: ') && !event.includes('\n')) return event.slice(6); // the usual case
  let data: string | undefined;
  let name = 'message';
  for (const line of event.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') name = value;
  }
  if (name === 'error') throw new UpstreamStreamError(data === undefined ? undefined : safeParse(data));
  return data;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function upstreamErrorMessage(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (typeof payload === 'object' && payload !== null) {
    const inner = 'error' in payload ? (payload).error : payload;
    if (typeof inner === 'string') return inner;
    if (typeof inner === 'object' && inner !== null && 'message' in inner && typeof inner.message === 'string') return inner.message;
  }
  return 'The model server reported an error in the stream';
}
