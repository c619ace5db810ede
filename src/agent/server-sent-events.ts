import type { Readable } from 'node:stream';

/** An `event: error` from the upstream, or a data payload that is `{ "error": … }`. */
export class UpstreamStreamError extends Error {
  constructor(readonly payload: unknown) {
    super(upstreamErrorMessage(payload));
    this.name = 'UpstreamStreamError';
  }
}

/**
 * The `data` of each server-sent event on a Node stream, until `data: [DONE]` or the end: the
 * lean path for chat.completion.chunk streams (one string buffer, no web streams, no nested
 * async generators). Comments and fields other than `data` and `event` are skipped, as the
 * SSE spec says; `event: error` throws.
 */
export async function* serverSentData(body: Readable): AsyncGenerator<string> {
  body.setEncoding('utf8');
  let buffer = '';
  for await (const chunk of body as AsyncIterable<string>) {
    buffer += chunk;
    // CRLF and CR end lines too; a CR at the very end may be half of a CRLF still coming.
    if (buffer.includes('\r')) buffer = buffer.replace(/\r\n|\r(?!$)/g, '\n');
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) !== -1) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = dataOf(event);
      if (data === undefined) continue;
      if (data === '[DONE]') return;
      yield data;
    }
  }
  const data = dataOf(buffer.replace(/\r$/, ''));
  if (data !== undefined && data !== '[DONE]') yield data;
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
