import { freePort } from '../../../../test/support/built-app.js';
import { FakeOpenAi, wordTokens } from '../../../../test/support/fake-openai.js';
import { AgentError } from '../../agent-error.js';
import type { ModelChunk, ModelRequest } from '../../chat-model.js';
import { Completions } from 'openai/resources/chat/completions';
import { OpenAiChatModel } from './openai-chat-model.js';

// Both ways the SDK can reach the server: node:http with the lean stream reader, and the built-in fetch.
describe.each(['node', 'fetch'] as const)('OpenAiChatModel (UPSTREAM_HTTP_CLIENT=%s) against an OpenAI-compatible server over HTTP', (httpClient) => {
  let fake: FakeOpenAi;
  let model: OpenAiChatModel;
  const request: ModelRequest = {
    systemPrompt: 'Be brief.',
    turns: [
      { role: 'user', content: 'hi' },
      { role: 'model', content: 'hello' },
      { role: 'user', content: 'how are you?' },
    ],
  };

  beforeEach(async () => {
    fake = await FakeOpenAi.start();
    model = new OpenAiChatModel({ apiKey: 'sk-test', baseURL: fake.baseURL, model: 'fake-model', httpClient });
  });
  afterEach(() => fake.close());

  async function collect(signal = new AbortController().signal): Promise<string[]> {
    const parts: string[] = [];
    for await (const chunk of model.streamText(request, signal)) if ('text' in chunk) parts.push(chunk.text);
    return parts;
  }

  it('streams the deltas and sends the system prompt, the history and the model', async () => {
    fake.enqueue({ tokens: ['Hel', 'lo', ' there'] });
    expect(await collect()).toEqual(['Hel', 'lo', ' there']);
    const [sent] = fake.requests;
    expect(sent.body.model).toBe('fake-model');
    expect(sent.body.stream).toBe(true);
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'how are you?' },
    ]);
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    // The SDK's own User-Agent, though the client is a subclass of the SDK's.
    expect(sent.headers['user-agent']).toMatch(/^OpenAI\/JS \d/);
  });

  it('offers tools, yields streamed tool call pieces per index and the tool_calls finish, and sends calls and results back in OpenAI shape', async () => {
    fake.enqueue({ tokens: ['One moment.'], toolCalls: [{ name: 'lookup', arguments: { id: 'A1' }, id: 'call_1' }, { name: 'other', arguments: '{}', id: 'call_2' }] });
    const withTools: ModelRequest = {
      systemPrompt: undefined,
      turns: [
        { role: 'user', content: 'earlier' },
        { role: 'model', content: '', toolCalls: [{ id: 'call_0', name: 'lookup', arguments: '{"id":"Z"}' }] },
        { role: 'tool', toolCallId: 'call_0', content: 'Z is here' },
        { role: 'model', content: 'Found Z.' },
        { role: 'user', content: 'and A1?' },
      ],
      tools: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { id: { type: 'string' } } } }],
    };
    const chunks: ModelChunk[] = [];
    for await (const chunk of model.streamText(withTools, new AbortController().signal)) chunks.push(chunk);
    const pieces = chunks.flatMap((c) => ('toolCall' in c ? [c.toolCall] : []));
    expect(pieces.filter((p) => p.index === 0).map((p) => p.arguments ?? '').join('')).toBe('{"id":"A1"}');
    expect(pieces.find((p) => p.index === 0)).toEqual({ index: 0, id: 'call_1', name: 'lookup' });
    expect(pieces.find((p) => p.index === 1)).toEqual({ index: 1, id: 'call_2', name: 'other' });
    expect(chunks.find((c) => 'finish' in c)).toEqual({ finish: { reason: 'tool_calls', responseId: expect.any(String), responseModel: 'fake-model' } });
    const [sent] = fake.requests;
    expect(sent.body.tools).toEqual([{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { id: { type: 'string' } } } } }]);
    expect(sent.body.messages.slice(1, 4)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'lookup', arguments: '{"id":"Z"}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: 'Z is here' },
      { role: 'assistant', content: 'Found Z.' },
    ]);
  });

  it('leaves the response at [DONE] without closing the connection: the next call reuses it', async () => {
    fake.enqueue({ tokens: ['one'] }, { tokens: ['two'] });
    expect(await collect()).toEqual(['one']);
    // The socket goes back to the pool on the response's end, which the client reads just after [DONE].
    await fake.requests[0].closed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await collect()).toEqual(['two']);
    const [first, second] = fake.requests;
    expect(first.aborted).toBe(false);
    expect(second.remotePort).toBe(first.remotePort);
  });

  // The lean reader leaves at [DONE]; the SDK's own stream reader (fetch) reads on to the response's end.
  it(`${httpClient === 'node' ? 'ends the answer at [DONE]' : 'ends the answer with the response'} when the server keeps the response open after [DONE]`, async () => {
    fake.enqueue({ tokens: ['still', ' open'], holdOpenAfterDoneMs: 3_000 });
    expect(await collect()).toEqual(['still', ' open']);
    expect(fake.requests[0].times.closedAt === undefined).toBe(httpClient === 'node');
  });

  it('asks for usage and yields it after the text', async () => {
    fake.enqueue({ tokens: ['a', 'b', 'c'] });
    const chunks: ModelChunk[] = [];
    for await (const chunk of model.streamText(request, new AbortController().signal)) chunks.push(chunk);
    expect(fake.requests[0].body.stream_options).toEqual({ include_usage: true });
    expect(chunks.slice(0, 3)).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    expect(chunks[3]).toEqual({ finish: { reason: 'stop', responseId: expect.any(String), responseModel: expect.any(String) } });
    expect(chunks[4]).toEqual({ usage: { promptTokens: expect.any(Number), completionTokens: 3 } });
    expect(chunks).toHaveLength(5);
  });

  it.each([
    [500, /failed \(HTTP 500\)/],
    [401, /rejected the API key/],
    [404, /no model "fake-model"/],
    [429, /rate limiting/],
    [400, /rejected the request \(HTTP 400\): context too long/],
  ])('turns HTTP %i into an AgentError fit for users', async (status, message) => {
    fake.enqueue({ status, errorMessage: 'context too long' });
    const error = await collect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as Error).message).toMatch(message);
    expect(fake.requests).toHaveLength(1); // no retries
  });

  it('reports a connection dropped mid-answer, after the deltas that arrived', async () => {
    fake.enqueue({ tokens: wordTokens(10), dropAfterTokens: 4, tokenDelayMs: 5 });
    const parts: string[] = [];
    const error = await (async () => {
      for await (const chunk of model.streamText(request, new AbortController().signal)) if ('text' in chunk) parts.push(chunk.text);
    })().catch((e: unknown) => e);
    expect(parts).toEqual(wordTokens(4));
    expect(error).toBeInstanceOf(AgentError);
    expect((error as Error).message).toMatch(/broke off/);
  });

  it('reports an unreachable server', async () => {
    await fake.close();
    const error = await collect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as Error).message).toBe('The model server could not be reached.');
    fake = await FakeOpenAi.start(); // for afterEach
  });

  it('closes the upstream connection when aborted, and ends without an error', async () => {
    fake.enqueue({ tokens: wordTokens(100), tokenDelayMs: 10 });
    const abort = new AbortController();
    const parts: string[] = [];
    for await (const chunk of model.streamText(request, abort.signal)) {
      if ('text' in chunk) parts.push(chunk.text);
      if (parts.length === 3) abort.abort();
    }
    expect(parts).toHaveLength(3);
    await fake.requests[0].closed;
    expect(fake.requests[0].aborted).toBe(true);
  });

  it('ends with the upstream’s own message on an error event mid-stream, after the deltas before it', async () => {
    fake.enqueue({ tokens: wordTokens(6), errorEvent: { afterTokens: 2, message: 'engine overloaded' } });
    const parts: string[] = [];
    const error = await (async () => {
      for await (const chunk of model.streamText(request, new AbortController().signal)) if ('text' in chunk) parts.push(chunk.text);
    })().catch((e: unknown) => e);
    expect(parts).toEqual(wordTokens(2));
    expect(error).toBeInstanceOf(AgentError);
    expect((error as Error).message).toMatch(/engine overloaded/);
  });

  it('reports an unreachable server without its address or any credential, to users and in the cause', async () => {
    const port = await freePort();
    const secrets = ['svcuser', 'S3cretPassw0rd', 'Qu3rySecretValue', 'sk-ApiKeySecret123'];
    model = new OpenAiChatModel({
      apiKey: 'sk-ApiKeySecret123',
      baseURL: `http://svcuser:S3cretPassw0rd@127.0.0.1:${port}/v1?api-key=Qu3rySecretValue`,
      model: 'fake-model',
      httpClient,
    });
    const error = await collect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).message).toBe('The model server could not be reached.');
    // The cause is what the log shows: the whole chain, every message and stack in it.
    const logged: string[] = [];
    for (let cause: unknown = (error as AgentError).cause; cause instanceof Error; cause = cause.cause) logged.push(cause.message, cause.stack ?? '');
    expect(logged.join('\n')).toMatch(/\S/);
    for (const secret of secrets) expect(logged.join('\n')).not.toContain(secret);
  });

  it('ends with an error on a 200 that is not an event stream (a proxy’s login page), without retrying', async () => {
    fake.enqueue({ htmlPage: true });
    const error = await collect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).message).toMatch(/text\/html, not an event stream/);
    expect((error as AgentError).retryable).toBe(false);
  });

  it('stops reading and aborts the upstream once an event passes 1 MiB, after the text before it', async () => {
    fake.enqueue({ tokens: wordTokens(5), hugeLine: { afterTokens: 2, bytes: 20 * 1024 * 1024 } });
    const parts: string[] = [];
    const error = await (async () => {
      for await (const chunk of model.streamText(request, new AbortController().signal)) if ('text' in chunk) parts.push(chunk.text);
    })().catch((e: unknown) => e);
    expect(parts).toEqual(wordTokens(2));
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).message).toMatch(/over 1 MiB/);
    expect((error as AgentError).retryable).toBe(false);
    await fake.requests[0].closed;
    expect(fake.requests[0].aborted).toBe(true);
    expect(fake.requests[0].hugeLineBytesSent).toBeLessThan(20 * 1024 * 1024);
  });

  it('ends with an error on a stream that sends [DONE] but no choice at all', async () => {
    fake.enqueue({ noChoices: true });
    const chunks: ModelChunk[] = [];
    const error = await (async () => {
      for await (const chunk of model.streamText(request, new AbortController().signal)) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(chunks.filter((c) => 'text' in c)).toEqual([]);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).message).toMatch(/without an answer/);
    expect((error as AgentError).retryable).toBe(false);
  });

  it('takes text ended by [DONE] without a finish_reason, and a finish_reason without text, as complete answers', async () => {
    fake.enqueue({ tokens: ['all ', 'there'], noFinishReason: true }, { tokens: [] });
    expect(await collect()).toEqual(['all ', 'there']);
    expect(await collect()).toEqual([]);
  });
});

describe('OpenAiChatModel over node:http, whose request body is made as the request is sent', () => {
  let fake: FakeOpenAi;
  beforeEach(async () => {
    fake = await FakeOpenAi.start();
  });
  afterEach(() => fake.close());

  it('sends nothing, and fails the answer, when the SDK passes on a copy of the call (its body cannot be found)', async () => {
    const model = new OpenAiChatModel({ apiKey: 'sk-test', baseURL: fake.baseURL, model: 'fake-model', httpClient: 'node' });
    const create = Completions.prototype.create;
    // As an SDK that copied the parameters on their way to the request would.
    Completions.prototype.create = function (this: Completions, ...args: Parameters<Completions['create']>) {
      return create.call(this, { ...args[0] }, args[1]);
    } as typeof create;
    try {
      const reading = (async () => {
        for await (const chunk of model.streamText({ systemPrompt: undefined, turns: [{ role: 'user', content: 'hi' }] }, new AbortController().signal)) void chunk;
      })();
      await expect(reading).rejects.toThrow(/lost its messages/);
      expect(fake.requests).toHaveLength(0);
    } finally {
      Completions.prototype.create = create;
    }
  });
});
