import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
 * turns can still be collected while the answer streams on (the bulk of a running answer's memory).
 */
async function turnsCollectedWhileStreaming(agent: AgentService): Promise<{ collected: number; of: number; events: AgentEvent[]; ended: unknown }> {
  const registry = new FinalizationRegistry<number>(() => collected++);
  let collected = 0;
  const turnCount = 200;
  const events: AgentEvent[] = [];
  let ended: unknown = false;
  // Built in a function of its own, so that nothing here holds the turns.
  const start = (): Subscription => {
    const turns: ConversationTurn[] = Array.from({ length: turnCount }, (_, i) => ({ role: i % 2 ? 'model' : 'user', content: `turn ${i} ${'x'.repeat(100)}` }));
    for (const [i, turn] of turns.entries()) registry.register(turn, i);
    return agent.answer(turns, { ownerId: 'owner', conversationId: 'c1' }).subscribe({ next: (event) => events.push(event), complete: () => (ended = 'complete'), error: (error: unknown) => (ended = error) });
  };
  const subscription = start();
  for (let i = 0; i < 1_000 && !events.some((event) => event.type === 'text'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  for (let i = 0; i < 20 && collected < turnCount; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Still running, so that only what the answer holds on to is left.
  const endedWhileLooking = ended;
  subscription.unsubscribe();
  return { collected, of: turnCount, events, ended: endedWhileLooking };
}

describe('AgentService', () => {
  let upstream: FakeOpenAi;

  beforeEach(async () => {
    upstream = await FakeOpenAi.start({ tokens: ['first ', 'second'], firstTokenDelayMs: 0 });
  });

  afterEach(async () => {
    await upstream.close();
  });

  const openAiModel = () => new OpenAiChatModel({ apiKey: 'sk-test', baseURL: upstream.baseURL, model: 'gpt-test' });

  it('lets go of the conversation once the answer has text, when no tools are offered (openai driver)', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([], config));
    // The fake holds the answer after its first token for as long as the test looks.
    upstream.enqueue({ tokens: ['first ', 'second'], tokenDelays: [0, 60_000] });
    const result = await turnsCollectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: 'first ' });
    expect(upstream.requests[0].body.messages).toHaveLength(result.of);
    expect(result.collected).toBe(result.of);
  });

  it('lets go of the conversation with the offline model too', async () => {
    // A word every 100 ms: the answer runs for seconds after its first word.
    const agent = new AgentService(new OfflineChatModel(100), config, new AgentTools([], config));
    const result = await turnsCollectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: '**Offline ' });
    expect(result.collected).toBe(result.of);
  });

  it('keeps the conversation while tools are offered, and sends it again with the tool result', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([lookupTool], config));
    // A tool call and no text, then the second step's answer, held after its first token.
    upstream.enqueue({ tokens: [], toolCalls: [{ name: 'lookup', arguments: {} }] }, { tokens: ['done ', 'more'], tokenDelays: [0, 60_000] });
    const result = await turnsCollectedWhileStreaming(agent);
    expect(result.ended).toBe(false);
    expect(result.events).toContainEqual({ type: 'text', text: 'done ' });
    expect(result.collected).toBe(0);
    const second = await upstream.request(2);
    // The 200 turns, the model's step with its call, and the tool's result.
    expect(second.body.messages).toHaveLength(result.of + 2);
    expect(second.body.messages.at(-1)).toMatchObject({ role: 'tool', content: 'found' });
  });

  it('retries a call that failed before any text with the whole conversation', async () => {
    const agent = new AgentService(openAiModel(), config, new AgentTools([], config));
    upstream.enqueue({ status: 503 }, { tokens: ['again'] });
    const turns: ConversationTurn[] = [{ role: 'user', content: 'hello' }];
    const events = agent.answer(turns, { ownerId: 'owner', conversationId: 'c1' });
    await firstValueFrom(events.pipe(filter((event) => event.type === 'text')));
    expect(upstream.requests.map((request) => request.body.messages)).toEqual([
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
