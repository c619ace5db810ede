import { StringDecoder } from 'node:string_decoder';
import { SseDecoder, UpstreamStreamError } from './server-sent-events.js';

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
});
