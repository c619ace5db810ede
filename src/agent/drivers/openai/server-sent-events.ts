/** An `event: error` from the upstream, or a data payload that is `{ "error": … }`. */
export class UpstreamStreamError extends Error {
  constructor(readonly payload: unknown) {
    super(upstreamErrorMessage(payload));
    this.name = 'UpstreamStreamError';
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
        data = dataOf(buffer.slice(start, boundary));
      } catch (error) {
        if (out.length === 0) throw error;
        this.failure = error as Error; // the data before it goes out first
        this.buffer = '';
        return out;
      }
      if (data !== undefined) out.push(data);
      start = boundary + 2;
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
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
