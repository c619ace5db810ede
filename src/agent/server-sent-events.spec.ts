import { Readable } from 'node:stream';
import { serverSentData, UpstreamStreamError } from './server-sent-events.js';

async function dataOf(...chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of serverSentData(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(data);
  return out;
}

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

  it('handles multi-byte characters split between chunks', async () => {
    const bytes = Buffer.from('data: héllo 👋\n\n');
    const out: string[] = [];
    for await (const data of serverSentData(Readable.from([bytes.subarray(0, 9), bytes.subarray(9, 15), bytes.subarray(15)]))) out.push(data);
    expect(out).toEqual(['héllo 👋']);
  });

  it('throws on `event: error`, with the upstream’s message', async () => {
    await expect(dataOf('data: {"ok":1}\n\nevent: error\ndata: {"error":{"message":"overloaded"}}\n\n')).rejects.toThrow(UpstreamStreamError);
    await expect(dataOf('event: error\ndata: {"error":{"message":"overloaded"}}\n\n')).rejects.toThrow('overloaded');
  });
});
