import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Completions } from 'openai/resources/chat/completions';
import { firstValueFrom, filter, type Subscription } from 'rxjs';
import { FakeOpenAi } from '../../test/support/fake-openai.js';
import type { AppConfig } from '../config/app-config.js';
import { AgentTools } from '../tools/agent-tools.service.js';
import type { ToolSource } from '../tools/tool-source.js';
import { AgentService, type AgentEvent } from './agent.service.js';
import type { ConversationTurn } from './chat-model.js';
import { OpenAiChatModel } from './drivers/openai/openai-chat-model.js';
import { OfflineChatModel } from './drivers/offline/offline-chat-model.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const config = {
  systemPrompt: undefined,
  // Long enough that no timeout ends an answer the fake holds open while a loaded machine runs the GC loop.
  upstream: { firstTokenTimeoutMs: 60_000, idleTimeoutMs: 60_000, retries: 2 },
  tools: { enabled: [], maxSteps: 4, timeoutMs: 30_000, resultMaxBytes: 16_384 },
} as unknown as AppConfig;

const lookupTool: ToolSource = {
  label: 'test',
  definitions: () => [{ name: 'lookup', description: 'Looks something up.', parameters: { type: 'object', properties: {} } }],
  call: () => Promise.resolve('found'),
};

/**
 * A running answer's conversation, which the model call has sent already: whether each of its
 * turns, and each message the openai driver built from them for the request, can still be
 * collected while the answer streams on (the bulk of a running answer's memory).
 */
async function collectedWhileStreaming(agent: AgentService): Promise<{ turns: number; sentMessages: number; of: number; events: AgentEvent[]; ended: unknown }> {
  const collected = { turns: 0, sentMessages: 0 };
  let registeredMessages = 0;
  const registry = new FinalizationRegistry<'turns' | 'sentMessages'>((kind) => collected[kind]++);
  const turnCount = 200;
  const events: AgentEvent[] = [];
  let ended: unknown = false;
  // Replaced by hand rather than with jest.spyOn, whose record of the calls would keep the messages.
  const create = Completions.prototype.create;
  Completions.prototype.create = function (this: Completions, ...args: Parameters<Completions['create']>) {
    for (const message of args[0].messages) registry.register(message, 'sentMessages');
    registeredMessages += args[0].messages.length;
    return create.apply(this, args);
  } as typeof create;
  // Built in a function of its own, so that nothing here holds the turns.
  const start = (): Subscription => {
    const turns: ConversationTurn[] = Array.from({ length: turnCount }, (_, i) => ({ role: i % 2 ? 'model' : 'user', content: `turn ${i} ${'x'.repeat(100)}` }));
    for (const turn of turns) registry.register(turn, 'turns');
    return agent.answer(turns, { ownerId: 'owner', conversationId: 'c1' }).subscribe({ next: (event) => events.push(event), complete: () => (ended = 'complete'), error: (error: unknown) => (ended = error) });
  };
  try {
    const subscription = start();
    for (let i = 0; i < 1_000 && !events.some((event) => event.type === 'text'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 20 && (collected.turns < turnCount || collected.sentMessages < registeredMessages); i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Still running, so that only what the answer holds on to is left.
    const endedWhileLooking = ended;
    subscription.unsubscribe();
    return { ...collected, of: turnCount, events, ended: endedWhileLooking };
  } finally {
    Completions.prototype.create = create;
  }
}

describe('AgentService', () => {
  let upstream: FakeOpenAi;

  beforeEach(async () => {
    upstream = await FakeOpenAi.start({ tokens: ['first ', 'second'], firstTokenDelayMs: 0 });
  });

  afterEach(async () => {
    await upstream.close();
  });

  const openAiModel = (httpClient?: 'node' | 'fetch') => new OpenAiChatModel({ apiKey: 'sk-test', baseURL: upstream.baseURL, model: 'gpt-test', httpClient });

  it.each(['node', 'fetch'] as const)('lets go of the conversation once the answer has text, when no tools are offered (openai driver over %s)', async (httpClient) => {
    const agent = new AgentService(openAiModel(httpClient), config, new AgentTools([], config));
    // The fake holds the answer after its first token for as long as the test looks.
    upstream.enqueue({ tokens: ['first ', 'second'], tokenDelays: [0, 60_000] });
    const result = await collectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: 'first ' });
    expect(upstream.requests[0].body.messages).toHaveLength(result.of);
    expect(result.turns).toBe(result.of);
    // Over node, the SDK is given the call without its messages: the driver's fetch makes the body as it sends it.
    expect(result.sentMessages).toBe(httpClient === 'fetch' ? result.of : 0);
  });

  it('lets go of the conversation with the offline model too', async () => {
    // A word every 500 ms: the answer runs for half a minute after its first word.
    const agent = new AgentService(new OfflineChatModel(500), config, new AgentTools([], config));
    const result = await collectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: '**Offline ' });
    expect(result.turns).toBe(result.of);
  });

  it('keeps the conversation while tools are offered, and sends it again with the tool result', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([lookupTool], config));
    // A tool call and no text, then the second step's answer, held after its first token.
    upstream.enqueue({ tokens: [], toolCalls: [{ name: 'lookup', arguments: {} }] }, { tokens: ['done ', 'more'], tokenDelays: [0, 60_000] });
    const result = await collectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: 'done ' });
    expect(result.turns).toBe(0);
    const second = await upstream.request(2);
    // The 200 turns, the model's step with its call, and the tool's result.
    expect(second.body.messages).toHaveLength(result.of + 2);
    expect(second.body.messages.at(-1)).toMatchObject({ role: 'tool', content: 'found' });
  });

  it('ends the answer, its text kept, when the model calls a tool it was not offered after text (the conversation was let go)', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([], config));
    upstream.enqueue({ tokens: ['let me look '], toolCalls: [{ name: 'lookup', arguments: {}, id: 'call_1' }] });
    const events: AgentEvent[] = [];
    const ended = new Promise<unknown>((resolve) =>
      agent.answer([{ role: 'user', content: 'hello' }], { ownerId: 'owner', conversationId: 'c1' }).subscribe({ next: (event) => events.push(event), error: resolve, complete: () => resolve('complete') }),
    );
    const error = await ended;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('The model asked for a tool, but no tools are offered; the answer was ended there, and what was said is kept.');
    expect(events.filter((event) => event.type !== 'usage')).toEqual([
      { type: 'step', step: 1 },
      { type: 'text', text: 'let me look ' },
      { type: 'tool-call', toolCallId: 'call_1', toolName: 'lookup', input: {} },
      { type: 'tool-error', toolCallId: 'call_1', toolName: 'lookup', error: 'Not run: no tools are offered to the model.' },
    ]);
    expect(upstream.requests).toHaveLength(1);
  });

  it('retries a call that failed before any text with the whole conversation: an error status, or a stream that broke off', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([], config));
    // The second answers 200 and its first (empty) chunk, then breaks off before any text.
    upstream.enqueue({ status: 503 }, { tokens: ['never'], firstTokenDelayMs: 20, dropAfterTokens: 0 }, { tokens: ['again'] });
    const turns: ConversationTurn[] = [{ role: 'user', content: 'hello' }];
    const events = agent.answer(turns, { ownerId: 'owner', conversationId: 'c1' });
    await firstValueFrom(events.pipe(filter((event) => event.type === 'text')));
    expect(upstream.requests.map((request) => request.body.messages)).toEqual([
      [{ role: 'user', content: 'hello' }],
      [{ role: 'user', content: 'hello' }],
      [{ role: 'user', content: 'hello' }],
    ]);
  });

  it('is started once: a second subscription fails instead of answering without the conversation', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([], config));
    const events = agent.answer([{ role: 'user', content: 'hello' }], { ownerId: 'owner', conversationId: 'c1' });
    await firstValueFrom(events.pipe(filter((event) => event.type === 'text')));
    await expect(firstValueFrom(events)).rejects.toThrow('This answer was started already.');
    expect(upstream.requests).toHaveLength(1);
  });
});
