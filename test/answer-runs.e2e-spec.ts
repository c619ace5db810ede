import { once } from 'node:events';
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { waitForMessages } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';
import { type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

const TOKENS = wordTokens(30);
const TOKEN_TOKEN_A = 'token-of-alice-0123456789';
const TOKEN_TOKEN_B = 'token-of-bob-0123456789ab';

/** Answers that outlive their connection: background completion, checkpoints, resume and stop. */
describe('answer runs', () => {
  const e2e = useE2eFixture({ upstream: { tokens: TOKENS, tokenDelayMs: 20 }, autoStart: false, env: { UPSTREAM_RETRIES: '0' } });

  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const newConversation = async (headers: Record<string, string> = {}) =>
    ((await (await fetch(`${e2e.url}/api/conversations`, { ...json({}), headers: { ...headers, 'content-type': 'application/json' } })).json()) as { id: string }).id;
  const messages = async (id: string) =>
    ((await (await fetch(`${e2e.url}/api/conversations/${id}/messages`)).json()) as { items: MessageJson[] }).items;

  /** Starts an answer on the REST route and reads its first delta, then leaves it (or keeps reading). */
  async function startAnswer(id: string, prompt = 'tell me') {
    const controller = new AbortController();
    const response = await fetch(`${e2e.url}/api/conversations/${id}/messages`, { ...json({ prompt }), signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"type":"delta"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the answer ended before its first delta: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    return { leave: () => controller.abort(), reader, decoder, soFar: text };
  }

  async function readAll(response: Response): Promise<string> {
    expect(response.status).toBe(200);
    return response.text();
  }

  const deltaText = (events: DeltaEvent[]) => events.map((e) => (e.type === 'delta' ? e.text : '')).join('');

  it('runs an answer to its end after its client left, and shows it streaming with its text so far meanwhile', async () => {
    await e2e.start();
    const id = await newConversation();
    const answer = await startAnswer(id);
    answer.leave();
    const running = await messages(id);
    expect(running.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['model', 'streaming'],
    ]);
    expect(running[1].content.length).toBeGreaterThan(0);
    expect(TOKENS.join('')).toContain(running[1].content);
    const rows = await waitForMessages(e2e.db, (r) => r.at(-1)?.status !== 'streaming', 5000);
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'tell me', 'complete'],
      ['model', TOKENS.join(''), 'complete'],
    ]);
    expect(e2e.fake.requests[0].aborted).toBe(false);
  });

  it('with ANSWER_ON_DISCONNECT=abort, stops the answer when its client leaves, as before', async () => {
    await e2e.start({ ANSWER_ON_DISCONNECT: 'abort' });
    const id = await newConversation();
    (await startAnswer(id)).leave();
    const rows = await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'interrupted', 5000);
    expect(rows[1].content.length).toBeLessThan(TOKENS.join('').length);
    await e2e.fake.requests[0].closed;
    expect(e2e.fake.requests[0].aborted).toBe(true);
  });

  it('keeps aborting the seed route at once: its page cannot come back', async () => {
    await e2e.start();
    const controller = new AbortController();
    const response = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'seed' }), signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read(); // the user line
    await reader.read(); // a model line
    controller.abort();
    await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'interrupted', 5000);
  });

  it('resumes on the REST route: start, the text so far as one delta, the live deltas and done; 204 after the end; 404 for unknown ids', async () => {
    await e2e.start();
    const id = await newConversation();
    const first = await startAnswer(id);
    first.leave();
    const resumed = ndjson<DeltaEvent>(await readAll(await fetch(`${e2e.url}/api/conversations/${id}/stream`)));
    expect(resumed[0]).toMatchObject({ type: 'start', conversationId: id, userMessage: { content: 'tell me' } });
    expect(resumed[1].type).toBe('delta');
    expect((resumed[1] as { text: string }).text.length).toBeGreaterThan(0);
    expect(deltaText(resumed)).toBe(TOKENS.join(''));
    expect(resumed.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });

    expect((await fetch(`${e2e.url}/api/conversations/${id}/stream`)).status).toBe(204);
    const unknown = await fetch(`${e2e.url}/api/conversations/0b6ee5a6-5b1c-4d5e-9f3a-2c1d0e9f8a7b/stream`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ statusCode: 404 });
  });

  it('resumes through the ai package (DefaultChatTransport.reconnectToStream + readUIMessageStream) with the whole text', async () => {
    await e2e.start();
    const transport = new DefaultChatTransport<UIMessage>({ api: `${e2e.url}/api/chat` });
    const chatId = 'resume-me';
    const controller = new AbortController();
    const stream = await transport.sendMessages({
      chatId,
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'tell me' }] }],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: controller.signal,
    });
    const reader = stream.getReader();
    let chunk: UIMessageChunk | undefined;
    while (chunk?.type !== 'text-delta') chunk = (await reader.read()).value;
    const startId = await messageIdOf(chatId);
    controller.abort(); // the tab closes mid-answer

    const resumed = await transport.reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: resumed! })) last = message;
    expect(last?.id).toBe(startId);
    expect(last?.parts.map((p) => (p.type === 'text' ? p.text : '')).join('')).toBe(TOKENS.join(''));
    // Nothing runs any more: the client gets null (a 204).
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
  });

  /** The id the AI SDK route gave the answer: its stored message id. */
  async function messageIdOf(chatId: string): Promise<string> {
    const conversations = ((await (await fetch(`${e2e.url}/api/conversations`)).json()) as { items: { id: string; title: string }[] }).items;
    const id = conversations[0].id;
    expect(conversations).toHaveLength(1);
    expect(chatId).toBeTruthy();
    return String((await messages(id)).at(-1)!.id);
  }

  it('gives 204 on the AI SDK resume route for chats with nothing running, unknown and other owners\' included', async () => {
    await e2e.start({ AUTH_MODE: 'token', API_TOKENS: `${TOKEN_TOKEN_A},${TOKEN_TOKEN_B}` });
    const alice = { authorization: `Bearer ${TOKEN_TOKEN_A}` };
    const bob = { authorization: `Bearer ${TOKEN_TOKEN_B}` };
    const controller = new AbortController();
    const response = await fetch(`${e2e.url}/api/chat`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'shared-name', messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }),
      signal: controller.signal,
    });
    await response.body!.getReader().read();
    expect((await fetch(`${e2e.url}/api/chat/shared-name/stream`, { headers: bob })).status).toBe(204);
    expect((await fetch(`${e2e.url}/api/chat/never-used/stream`, { headers: alice })).status).toBe(204);
    // Bob's stop of the same name stops nothing of Alice's.
    expect((await fetch(`${e2e.url}/api/chat/shared-name/stream`, { method: 'DELETE', headers: bob })).status).toBe(204);
    const own = await fetch(`${e2e.url}/api/chat/shared-name/stream`, { headers: alice });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('"type":"finish"');
    controller.abort();
    // The REST stop route answers 404 for another owner's conversation.
    const { id } = (await (await fetch(`${e2e.url}/api/conversations`, { headers: alice })).json() as { items: { id: string }[] }).items[0];
    expect((await fetch(`${e2e.url}/api/conversations/${id}/stop`, { method: 'POST', headers: bob })).status).toBe(404);
    expect((await fetch(`${e2e.url}/api/conversations/${id}/stream`, { headers: bob })).status).toBe(404);
  });

  it('serves two readers at once, each at its own pace: a paused one slows neither the answer nor the other', async () => {
    await e2e.start();
    const id = await newConversation();
    const first = await startAnswer(id);
    const paused = await fetch(`${e2e.url}/api/conversations/${id}/stream`);
    const reading = ndjson<DeltaEvent>(await readAll(await fetch(`${e2e.url}/api/conversations/${id}/stream`)));
    expect(deltaText(reading)).toBe(TOKENS.join(''));
    // The answer finished and was stored while one reader had not read a byte.
    await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'complete', 5000);
    const late = ndjson<DeltaEvent>(await readAll(paused));
    expect(deltaText(late)).toBe(TOKENS.join(''));
    expect(late.at(-1)).toMatchObject({ type: 'done' });
    first.leave();
  });

  it('stops on request: the upstream aborted, the text so far stored interrupted, every reader sees the end', async () => {
    await e2e.start();
    const id = await newConversation();
    const first = await startAnswer(id);
    const reader = fetch(`${e2e.url}/api/conversations/${id}/stream`).then(readAll);
    const stop = await fetch(`${e2e.url}/api/conversations/${id}/stop`, { method: 'POST' });
    expect(stop.status).toBe(204);
    // Answered once stored: the row is final now.
    const stored = (await messages(id)).at(-1)!;
    expect(stored.status).toBe('interrupted');
    expect(stored.content.length).toBeGreaterThan(0);
    expect(stored.content.length).toBeLessThan(TOKENS.join('').length);
    await e2e.fake.requests[0].closed;
    expect(e2e.fake.requests[0].aborted).toBe(true);

    const seen = ndjson<DeltaEvent>(await reader);
    expect(seen.at(-1)).toEqual({ type: 'error', message: 'The answer was stopped.', messageId: stored.id, stopped: true });
    expect(deltaText(seen)).toBe(stored.content);
    let rest = first.soFar;
    for (;;) {
      const { value, done } = await first.reader.read();
      if (done) break;
      rest += first.decoder.decode(value, { stream: true });
    }
    expect(ndjson<DeltaEvent>(rest).at(-1)).toMatchObject({ type: 'error', stopped: true });
    // Nothing runs now: stopping again is still 204, and the AI SDK's stop route always is.
    expect((await fetch(`${e2e.url}/api/conversations/${id}/stop`, { method: 'POST' })).status).toBe(204);
    expect((await fetch(`${e2e.url}/api/chat/${id}/stream`, { method: 'DELETE' })).status).toBe(204);
  });

  it('stops an answer from the AI SDK route with an abort part for its readers', async () => {
    await e2e.start();
    const response = await fetch(`${e2e.url}/api/chat`, json({ id: 'to-stop', messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }));
    const reader = response.body!.getReader();
    await reader.read();
    expect((await fetch(`${e2e.url}/api/chat/to-stop/stream`, { method: 'DELETE' })).status).toBe(204);
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = text.split('\n\n').filter(Boolean);
    expect(events.slice(-2)).toEqual(['data: {"type":"abort"}', 'data: [DONE]']);
    const rows = await e2e.db.readMessages();
    expect(rows.at(-1)!.status).toBe('interrupted');
  });

  it('documents resume and stop in the OpenAPI document', async () => {
    await e2e.start();
    const spec = (await (await fetch(`${e2e.url}/api/docs-json`)).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(Object.keys(spec.paths['/api/conversations/{id}/stream'])).toEqual(['get']);
    expect(Object.keys(spec.paths['/api/conversations/{id}/stop'])).toEqual(['post']);
    expect(Object.keys(spec.paths['/api/chat/{id}/stream']).sort()).toEqual(['delete', 'get']);
    expect(spec.paths['/api/conversations/{id}/stream'].get.description).toMatch(/204 when no answer is running/);
  });

  it('counts an answer running in the background against MAX_STREAMS_PER_CLIENT until it is stored', async () => {
    await e2e.start({ MAX_STREAMS_PER_CLIENT: '1' });
    const id = await newConversation();
    (await startAnswer(id)).leave();
    const refused = await fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt: 'another' }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'complete', 5000);
    const accepted = await fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt: 'now' }));
    expect(accepted.status).toBe(200);
    await accepted.text();
  });

  it('caps an answer at ANSWER_MAX_DURATION_MS, keeping what arrived', async () => {
    await e2e.start({ ANSWER_MAX_DURATION_MS: '1000' });
    e2e.fake.enqueue({ tokens: wordTokens(100), tokenDelayMs: 50 });
    const id = await newConversation();
    const events = ndjson<DeltaEvent>(await readAll(await fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt: 'long' }))));
    expect(events.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/ANSWER_MAX_DURATION_MS/) });
    const stored = (await messages(id)).at(-1)!;
    expect(stored.status).toBe('interrupted');
    expect(stored.content).toBe(deltaText(events));
    expect(stored.content.length).toBeGreaterThan(0);
  });

  it('after kill -9 mid-answer keeps the last checkpoint (ANSWER_CHECKPOINT_MS), marked interrupted at the next start', async () => {
    const app = await e2e.startBuilt({ ANSWER_CHECKPOINT_MS: '100' });
    e2e.fake.enqueue({ tokens: wordTokens(200), tokenDelayMs: 20 });
    const created = (await (await fetch(`${app.url}/api/conversations`, json({}))).json()) as { id: string };
    const response = await fetch(`${app.url}/api/conversations/${created.id}/messages`, json({ prompt: 'long' }));
    const reader = response.body!.getReader();
    await reader.read();
    const checkpointed = await waitForMessages(e2e.db, (r) => (r.at(-1)?.content.length ?? 0) > 0, 5000);
    expect(checkpointed.at(-1)!.status).toBe('streaming');
    const exited = once(app.child, 'exit');
    app.child.kill('SIGKILL');
    await exited;
    const kept = (await e2e.db.readMessages()).at(-1)!.content;
    expect(kept.length).toBeGreaterThan(0);

    await e2e.startBuilt();
    const rows = await e2e.db.readMessages();
    expect(rows.map((r) => [r.role, r.status])).toEqual([
      ['user', 'complete'],
      ['model', 'interrupted'],
    ]);
    expect(rows[1].content).toBe(kept);
    expect(wordTokens(200).join('').startsWith(rows[1].content)).toBe(true);
  });
});
