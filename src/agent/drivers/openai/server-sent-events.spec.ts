import { StringDecoder } from 'node:string_decoder';
import { eventSizeLimit, SseDecoder, UpstreamEventTooLargeError, UpstreamStreamError } from './server-sent-events.js';

/** Each event's data, the text arriving in these chunks (of bytes, decoded as a socket's would be), up to [DONE]. */
function dataOfBytes(chunks: Buffer[]): string[] {
  const decoder = new SseDecoder();
  const text = new StringDecoder('utf8');
  const out: string[] = [];
  for (const chunk of chunks) out.push(...decoder.push(text.write(chunk)));
  out.push(...decoder.end());
  const done = out.indexOf('[DONE]');
  return done === -1 ? out : out.slice(0, done);
}

const dataOf = (...chunks: string[]) => Promise.resolve().then(() => dataOfBytes(chunks.map((c) => Buffer.from(c))));

describe('serverSentData (the lean SSE reader)', () => {
  it('yields each event’s data, across chunk boundaries, and stops at [DONE]', async () => {
    expect(await dataOf('data: {"a":1}\n\nda', 'ta: {"b":2}\n', '\ndata: [DONE]\n\ndata: {"after":true}\n\n')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('takes CRLF and CR line ends, even a CRLF split between chunks', async () => {
    expect(await dataOf('data: one\r', '\n\r\ndata: two\r\rdata: three\n\n')).toEqual(['one', 'two', 'three']);
  });

  it('joins multi-line data, skips comments and other fields, and keeps a final event without a blank line', async () => {
    expect(await dataOf(': keep-alive\n\nid: 7\nretry: 10\ndata: line 1\ndata:line 2\n\nevent: message\ndata: last')).toEqual([
      'line 1\nline 2',
      'last',
    ]);
  });

  it('handles multi-byte characters split between chunks', () => {
    const bytes = Buffer.from('data: héllo 👋\n\n');
    expect(dataOfBytes([bytes.subarray(0, 9), bytes.subarray(9, 15), bytes.subarray(15)])).toEqual(['héllo 👋']);
  });

  it('returns the data before an `event: error` in the same text, then throws', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: one\n\ndata: two\n\nevent: error\ndata: {"error":"gone"}\n\n')).toEqual(['one', 'two']);
    expect(() => decoder.end()).toThrow('gone');
  });

  it('throws on `event: error`, with the upstream’s message', async () => {
    await expect(dataOf('data: {"ok":1}\n\nevent: error\ndata: {"error":{"message":"overloaded"}}\n\n')).rejects.toThrow(UpstreamStreamError);
    await expect(dataOf('event: error\ndata: {"error":{"message":"overloaded"}}\n\n')).rejects.toThrow('overloaded');
  });

  it('throws once an event passes its length limit, even arriving in small pieces with no line end', () => {
    const decoder = new SseDecoder(100);
    expect(decoder.push(`data: ${'x'.repeat(94)}\n\n`)).toEqual(['x'.repeat(94)]); // 100 characters: at the limit
    expect(decoder.push('data: ')).toEqual([]);
    let error: unknown;
    try {
      for (let i = 0; i < 100; i++) expect(decoder.push('x')).toEqual([]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpstreamEventTooLargeError);
  });

  it('returns the events before an over-long one in the same text, then throws', () => {
    const decoder = new SseDecoder(100);
    expect(decoder.push(`data: one\n\ndata: ${'x'.repeat(200)}\n\ndata: three\n\n`)).toEqual(['one']);
    expect(() => decoder.end()).toThrow(UpstreamEventTooLargeError);
  });
});

describe('eventSizeLimit (the byte guard in front of the SDK’s own SSE reader)', () => {
  async function pass(limit: number, chunks: string[]): Promise<string> {
    const encoder = new TextEncoder();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    let out = '';
    const decoder = new TextDecoder();
    for await (const bytes of source.pipeThrough(eventSizeLimit(limit)) as unknown as AsyncIterable<Uint8Array>) out += decoder.decode(bytes, { stream: true });
    return out;
  }

  it('passes events up to the limit through unchanged, whatever the line ends', async () => {
    const chunks = [`data: ${'a'.repeat(14)}\n`, '\n', `data: ${'b'.repeat(4)}\r\ndata: ${'c'.repeat(4)}\r`, '\n\r\n', `data: ${'d'.repeat(14)}\r\r`];
    await expect(pass(20, chunks)).resolves.toBe(chunks.join(''));
  });

  it('fails the stream once one event passes the limit, across chunks and lines', async () => {
    await expect(pass(20, ['data: 0123456789', '0123456789\n'])).rejects.toThrow(UpstreamEventTooLargeError);
    await expect(pass(20, ['data: 012345\ndata: 0123456789\n\n'])).rejects.toThrow(UpstreamEventTooLargeError);
  });
});
