import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { waitForMessages } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import type { RecordedMessage } from './support/fake-openai.js';
import { type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';
import { TestTools, TestToolsModule } from './support/test-tools.js';

const ALICE = 'token-of-alice-0123456789';
const BOB = 'token-of-bob-0123456789ab';

/** The agent's tool loop end to end: provider tools, built-ins, limits, storage and every wire format. */
describe('agent tools', () => {
  const e2e = useE2eFixture({ upstream: { tokens: ['All ', 'done.'] }, autoStart: false, env: { UPSTREAM_RETRIES: '0' } });
  const start = (env: Record<string, string> = {}) => e2e.start(env, { imports: [TestToolsModule] });
  const tools = () => e2e.app.get(TestTools);

  const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const newConversation = async (headers: Record<string, string> = {}) =>
    ((await (await fetch(`${e2e.url}/api/conversations`, json({}, headers))).json()) as { id: string }).id;
  const ask = async (id: string, prompt: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt }, headers));
    expect(response.status).toBe(200);
    return ndjson<DeltaEvent>(await response.text());
  };
  const messages = async (id: string, headers: Record<string, string> = {}) =>
    ((await (await fetch(`${e2e.url}/api/conversations/${id}/messages`, { headers })).json()) as { items: MessageJson[] }).items;
  const toolMessages = (sent: readonly RecordedMessage[]) => sent.filter((m) => m.role === 'tool');
  const results = (events: DeltaEvent[]) => events.filter((e): e is Extract<DeltaEvent, { type: 'tool-result' }> => e.type === 'tool-result');
  const toolErrors = (events: DeltaEvent[]) => events.filter((e): e is Extract<DeltaEvent, { type: 'tool-error' }> => e.type === 'tool-error');

  it('calls a provider tool, gives its result to the next model call, streams the steps in order and stores them', async () => {
    await start();
    e2e.fake.enqueue({ tokens: ['Let me check. '], toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A17' }, id: 'call_a' }] }, { tokens: ['It ', 'shipped.'] });
    const id = await newConversation();
    const events = await ask(id, 'where is my order A17?');

    expect(events.map((e) => e.type)).toEqual(['start', 'delta', 'tool-call', 'tool-result', 'delta', 'delta', 'done']);
    expect(events[2]).toEqual({ type: 'tool-call', toolCallId: 'call_a', toolName: 'lookup_order', input: { orderId: 'A17' } });
    expect(JSON.parse((events[3] as { output: string }).output)).toEqual({ orderId: 'A17', status: 'shipped', eta: '2026-12-24' });
    expect(tools().calls).toEqual([{ tool: 'lookup_order', args: { orderId: 'A17' }, ownerId: 'local', conversationId: id }]);

    // The tools are offered, and the second call carries the call and its result in OpenAI's shape.
    const first = await e2e.fake.request(1);
    expect(first.body.tools?.map((t) => t.function.name)).toEqual(expect.arrayContaining(['lookup_order', 'greet', 'explode', 'hang', 'huge', 'refuse']));
    const second = (await e2e.fake.request(2)).body.messages;
    expect(second.at(-2)).toEqual({
      role: 'assistant',
      content: 'Let me check. ',
      tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'lookup_order', arguments: '{"orderId":"A17"}' } }],
    });
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_a' });

    // Stored: the text of both steps as content, the parts in order; read back after a reload.
    const [, answer] = await messages(id);
    expect(answer.content).toBe('Let me check. It shipped.');
    expect(answer.status).toBe('complete');
    expect(answer.parts.map((p) => p.type)).toEqual(['text', 'tool-call', 'tool-result', 'text']);
    expect(answer.parts[1]).toEqual({ type: 'tool-call', toolCallId: 'call_a', toolName: 'lookup_order', input: { orderId: 'A17' } });

    // A later turn's context carries the call and its result again.
    await ask(id, 'thanks');
    const third = (await e2e.fake.request(3)).body.messages;
    expect(third.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(third[1].tool_calls?.[0].id).toBe('call_a');
    expect(third[2]).toMatchObject({ role: 'tool', tool_call_id: 'call_a' });
    expect(third[3]).toEqual({ role: 'assistant', content: 'It shipped.' });
  });

  it('runs parallel calls, giving the results back in call order', async () => {
    await start();
    e2e.fake.enqueue({
      tokens: [],
      toolCalls: [
        { name: 'lookup_order', arguments: { orderId: 'B1' }, id: 'call_1' },
        { name: 'greet', arguments: { name: 'Ada' }, id: 'call_2' },
      ],
    });
    const id = await newConversation();
    const events = await ask(id, 'two things');
    expect(events.filter((e) => e.type === 'tool-call').map((e) => (e as { toolCallId: string }).toolCallId)).toEqual(['call_1', 'call_2']);
    expect(results(events).map((e) => e.toolCallId).sort()).toEqual(['call_1', 'call_2']);
    const sent = (await e2e.fake.request(2)).body.messages;
    expect(sent.at(-3)?.tool_calls?.map((c) => c.id)).toEqual(['call_1', 'call_2']);
    expect(toolMessages(sent).map((m) => [m.tool_call_id, m.content])).toEqual([
      ['call_1', expect.stringContaining('"orderId":"B1"')],
      ['call_2', 'Hello, Ada! (dto)'],
    ]);
  });

  it('turns failures into tool errors the model reads: a throwing tool, a ToolError, bad JSON, bad arguments, an unknown tool', async () => {
    await start();
    e2e.fake.enqueue({
      tokens: [],
      toolCalls: [
        { name: 'explode', id: 'c_explode' },
        { name: 'refuse', id: 'c_refuse' },
        { name: 'lookup_order', arguments: '{"orderId": "A1', id: 'c_json' },
        { name: 'lookup_order', arguments: { orderId: 7 }, id: 'c_schema' },
        { name: 'greet', arguments: { name: 'x'.repeat(30) }, id: 'c_dto' },
        { name: 'launch_rockets', arguments: {}, id: 'c_unknown' },
      ],
    });
    const id = await newConversation();
    const events = await ask(id, 'try everything');
    const errors = Object.fromEntries(toolErrors(events).map((e) => [e.toolCallId, e.error]));
    expect(errors).toEqual({
      c_explode: 'The tool failed (the server log has the details).',
      c_refuse: 'No such order; ask the user for the order id.',
      c_json: expect.stringContaining('not valid JSON'),
      c_schema: expect.stringMatching(/Invalid arguments: \/orderId must be string/),
      c_dto: expect.stringMatching(/Invalid arguments: .*name/),
      c_unknown: expect.stringMatching(/no tool named "launch_rockets".*lookup_order/),
    });
    expect(JSON.stringify(events)).not.toContain('kaboom');
    // Only the tools whose arguments passed ran.
    expect(tools().calls.map((c) => c.tool).sort()).toEqual(['explode', 'refuse']);
    // The model reads each error as its call's result, and the answer goes on.
    const sent = toolMessages((await e2e.fake.request(2)).body.messages);
    expect(sent).toHaveLength(6);
    expect(sent.every((m) => m.content?.startsWith('Error: '))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });
  });

  it('stops a tool past AGENT_TOOL_TIMEOUT_MS (aborting its signal) and cuts a 1 MB result to AGENT_TOOL_RESULT_MAX_BYTES', async () => {
    await start({ AGENT_TOOL_TIMEOUT_MS: '300' });
    e2e.fake.enqueue({ tokens: [], toolCalls: [{ name: 'hang', id: 'c_hang' }, { name: 'huge', id: 'c_huge' }] });
    const id = await newConversation();
    const events = await ask(id, 'slow and big');
    expect(toolErrors(events)).toEqual([{ type: 'tool-error', toolCallId: 'c_hang', error: expect.stringContaining('did not finish within 0.3 s') }]);
    expect(tools().aborted).toEqual(['c_hang']);
    const [huge] = results(events);
    expect(huge.toolCallId).toBe('c_huge');
    expect(huge.output).toMatch(/\n\[cut: the result was 1000000 bytes; the first 16384 are shown \(AGENT_TOOL_RESULT_MAX_BYTES\)\]$/);
    expect(huge.output.startsWith('é'.repeat(8192))).toBe(true);
    const sent = toolMessages((await e2e.fake.request(2)).body.messages);
    expect(sent.find((m) => m.tool_call_id === 'c_huge')?.content).toBe(huge.output);
  });

  it('ends the answer at AGENT_MAX_STEPS model calls with a clear error, keeping what was said', async () => {
    await start({ AGENT_MAX_STEPS: '2' });
    const looping = { tokens: ['Checking. '], toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'L1' } }] };
    e2e.fake.enqueue(looping, looping, looping);
    const id = await newConversation();
    const events = await ask(id, 'loop forever');
    expect(e2e.fake.requests).toHaveLength(2);
    const last = events.at(-1) as Extract<DeltaEvent, { type: 'error' }>;
    expect(last).toMatchObject({ type: 'error', message: expect.stringContaining('more than 2 model calls (AGENT_MAX_STEPS)') });
    expect(tools().calls).toHaveLength(1); // the second step's call is not run
    const [, answer] = await messages(id);
    expect(answer).toMatchObject({ status: 'error', content: 'Checking. Checking. ', error: last.message });
    expect(answer.parts.at(-1)).toMatchObject({ type: 'tool-error', error: expect.stringContaining('AGENT_MAX_STEPS') });
    // The stored answer is a valid history: every call has its result.
    await ask(id, 'and now?');
    const sent = (await e2e.fake.request(3)).body.messages;
    const callIds = sent.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []);
    expect(toolMessages(sent).map((m) => m.tool_call_id)).toEqual(callIds);
  });

  it('stops during a tool call: the signal reaches the tool, and the answer is stored with the call marked unfinished', async () => {
    await start();
    e2e.fake.enqueue({ tokens: ['Working. '], toolCalls: [{ name: 'hang', id: 'c_stop' }] });
    const id = await newConversation();
    const hanging = tools().whenHanging();
    const answer = fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt: 'do the slow thing' }));
    await hanging;
    expect((await fetch(`${e2e.url}/api/conversations/${id}/stop`, { method: 'POST' })).status).toBe(204);
    const events = ndjson<DeltaEvent>(await (await answer).text());
    expect(events.at(-1)).toMatchObject({ type: 'error', stopped: true });
    expect(tools().aborted).toEqual(['c_stop']);
    const rows = await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'interrupted', 3000);
    expect(rows.at(-1)?.content).toBe('Working. ');
    const [, stored] = await messages(id);
    expect(stored.parts.map((p) => p.type)).toEqual(['text', 'tool-call', 'tool-error']);
  });

  it('replays the tool steps to a client that resumes the answer', async () => {
    await start();
    e2e.fake.enqueue(
      { tokens: ['Looking. '], toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'R1' }, id: 'c_r' }] },
      { tokens: ['Found ', 'it.'], firstTokenDelayMs: 300 },
    );
    const id = await newConversation();
    const first = fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt: 'find R1' }));
    await e2e.fake.request(2); // the second step has begun: the tool ran
    const release = e2e.fake.pause(); // holds the second step before its first token, however slow the machine
    const resumed = await fetch(`${e2e.url}/api/conversations/${id}/stream`);
    expect(resumed.status).toBe(200);
    release();
    const events = ndjson<DeltaEvent>(await resumed.text());
    expect(events.map((e) => e.type).slice(0, 4)).toEqual(['start', 'delta', 'tool-call', 'tool-result']);
    expect(events.filter((e) => e.type === 'delta').map((e) => (e as { text: string }).text).join('')).toBe('Looking. Found it.');
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    await (await first).text();
  });

  it("assembles tool parts in the AI SDK's own client (readUIMessageStream)", async () => {
    await start();
    e2e.fake.enqueue({ tokens: ['One moment. '], toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'S9' }, id: 'c_sdk' }] }, { tokens: ['Shipped.'] });
    const transport = new DefaultChatTransport<UIMessage>({ api: `${e2e.url}/api/chat` });
    const stream = await transport.sendMessages({
      chatId: 'chat-tools-1',
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'where is S9?' }] }],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const chunks: UIMessageChunk[] = [];
    let last: UIMessage | undefined;
    const [forParts, forChunks] = stream.tee();
    const collecting = (async () => {
      for await (const chunk of forChunks as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
    })();
    for await (const message of readUIMessageStream({ stream: forParts })) last = message;
    await collecting;
    expect(chunks.map((c) => c.type)).toEqual([
      'start',
      'start-step',
      'text-start',
      'text-delta',
      'text-end',
      'tool-input-start',
      'tool-input-delta',
      'tool-input-available',
      'tool-output-available',
      'finish-step',
      'start-step',
      'text-start',
      'text-delta',
      'text-end',
      'finish-step',
      'finish',
    ]);
    const parts = last?.parts ?? [];
    expect(parts.map((p) => p.type)).toEqual(['step-start', 'text', 'tool-lookup_order', 'step-start', 'text']);
    expect(parts[2]).toMatchObject({ type: 'tool-lookup_order', toolCallId: 'c_sdk', state: 'output-available', input: { orderId: 'S9' } });
    expect(JSON.parse((parts[2] as { output: string }).output)).toMatchObject({ orderId: 'S9', status: 'shipped' });
  });

  it('shows the seed format the text of every step, cumulative, and the full text last', async () => {
    await start();
    e2e.fake.enqueue({ tokens: ['Step one. '], toolCalls: [{ name: 'greet', arguments: { name: 'Bo' } }] }, { tokens: ['Step ', 'two.'] });
    const form = new URLSearchParams({ prompt: 'greet Bo' });
    const lines = ndjson<{ role: string; content: string }>(await (await fetch(`${e2e.url}/chat/`, { method: 'POST', body: form })).text());
    const model = lines.filter((l) => l.role === 'model').map((l) => l.content);
    expect(model.at(-1)).toBe('Step one. Step two.');
    for (let i = 1; i < model.length; i++) expect(model[i].startsWith(model[i - 1])).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('Hello, Bo');
  });

  it("search_history finds the caller's own earlier messages only, never another owner's", async () => {
    await start({ AUTH_MODE: 'token', API_TOKENS: `${ALICE},${BOB}`, AGENT_TOOLS: 'search_history' });
    const alice = { authorization: `Bearer ${ALICE}` };
    const bob = { authorization: `Bearer ${BOB}` };
    await ask(await newConversation(alice), 'my favourite pizza is pineapple with olives', alice);
    await ask(await newConversation(bob), 'I never eat pineapple', bob);
    const offered = (await e2e.fake.request(1)).body.tools?.map((t) => t.function.name);
    expect(offered).toContain('search_history');
    expect(offered).not.toContain('current_time'); // not named in AGENT_TOOLS

    const search = { tokens: [], toolCalls: [{ name: 'search_history', arguments: { query: 'Pineapple' } }] };
    e2e.fake.enqueue(search);
    const aliceAsks = await ask(await newConversation(alice), 'what pizza do I like?', alice);
    const aliceFound = JSON.parse(results(aliceAsks)[0].output) as { matches: { excerpt: string; role: string }[] };
    expect(aliceFound.matches.map((m) => m.excerpt)).toEqual(['my favourite pizza is pineapple with olives']);

    e2e.fake.enqueue(search);
    const bobAsks = await ask(await newConversation(bob), 'what do I think of pineapple?', bob);
    const bobFound = JSON.parse(results(bobAsks)[0].output) as { matches: { excerpt: string; conversationTitle: string }[] };
    expect(bobFound.matches.map((m) => m.excerpt)).toEqual(['I never eat pineapple']);
    expect(bobFound.matches[0].conversationTitle).toBe('I never eat pineapple');
  });
});

describe('agent tools with the offline model', () => {
  const e2e = useE2eFixture({ upstream: false, env: { AGENT_TOOLS: 'current_time' } });

  it('calls current_time for a time question, through the same loop, and answers with its result', async () => {
    const response = await fetch(`${e2e.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { id } = (await response.json()) as { id: string };
    const answer = await fetch(`${e2e.url}/api/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'What time is it?' }),
    });
    const events = ndjson<DeltaEvent>(await answer.text());
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['start', 'tool-call', 'tool-result']);
    expect(events[1]).toMatchObject({ toolName: 'current_time', input: {} });
    const result = JSON.parse((events[2] as { output: string }).output) as { iso: string; timeZone: string };
    expect(Math.abs(Date.parse(result.iso) - Date.now())).toBeLessThan(60_000);
    const text = events.map((e) => (e.type === 'delta' ? e.text : '')).join('');
    expect(text).toContain('current_time');
    expect(text).toContain(result.iso);
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });
  });
});
