import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { useE2eFixture } from './support/e2e-fixture.js';
import { type ConversationJson, type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';
import type { ModelsJson } from '../src/contract/api-shapes.js';

/** GET /api/models from each source, a conversation's model and system prompt, and the AI SDK route on the tree. */
describe('models, conversation settings and the AI SDK on the tree', () => {
  const e2e = useE2eFixture({ upstream: { echo: true }, autoStart: false, env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0' } });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${e2e.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, text, json: isJson ? (JSON.parse(text) as unknown) : undefined };
  };
  const models = async () => {
    const response = await api('GET', '/api/models');
    expect(response.status).toBe(200);
    return response.json as ModelsJson;
  };
  const ask = async (id: string, prompt: string) => {
    const events = ndjson<DeltaEvent>((await api('POST', `/api/conversations/${id}/messages`, { prompt })).text);
    const done = events.at(-1) as Extract<DeltaEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    return done.message;
  };

  describe('GET /api/models', () => {
    it('lists OPENAI_MODELS when set, with the default first when the list lacks it, and never asks the upstream', async () => {
      await e2e.start({ OPENAI_MODELS: 'fake-model, big-model' });
      expect(await models()).toEqual({ default: 'fake-model', models: ['fake-model', 'big-model'], source: 'OPENAI_MODELS' });
      await e2e.start({ OPENAI_MODELS: 'big-model,small-model' });
      expect(await models()).toEqual({ default: 'fake-model', models: ['fake-model', 'big-model', 'small-model'], source: 'OPENAI_MODELS' });
      expect(e2e.fake.modelListRequests).toBe(0);
    });

    it("lists the upstream's /v1/models otherwise, sorted, and asks it once for many requests", async () => {
      e2e.fake.modelList = { ids: ['z-model', 'fake-model', 'a-model'] };
      await e2e.start();
      const lists = await Promise.all([models(), models(), models()]);
      expect(await models()).toEqual({ default: 'fake-model', models: ['a-model', 'fake-model', 'z-model'], source: 'upstream' });
      expect(lists.every((list) => list.source === 'upstream')).toBe(true);
      expect(e2e.fake.modelListRequests).toBe(1);
    });

    it('offers OPENAI_MODEL alone when the upstream fails to list, lists nothing, or does not answer in time', async () => {
      e2e.fake.modelList = { status: 500 };
      await e2e.start();
      expect(await models()).toEqual({ default: 'fake-model', models: ['fake-model'], source: 'OPENAI_MODEL' });

      e2e.fake.modelList = { ids: [] };
      await e2e.start();
      expect(await models()).toEqual({ default: 'fake-model', models: ['fake-model'], source: 'OPENAI_MODEL' });

      e2e.fake.modelList = { hang: true };
      await e2e.start();
      expect(await models()).toEqual({ default: 'fake-model', models: ['fake-model'], source: 'OPENAI_MODEL' });
      // Not asked again at once: the failure is remembered for a while.
      const asked = e2e.fake.modelListRequests;
      expect((await models()).source).toBe('OPENAI_MODEL');
      expect(e2e.fake.modelListRequests).toBe(asked);
    });

    it('offers the offline model alone when no upstream is configured', async () => {
      await e2e.start({ OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined });
      expect(await models()).toEqual({ default: 'offline', models: ['offline'], source: 'OPENAI_MODEL' });
      expect(e2e.fake.modelListRequests).toBe(0);
    });
  });

  describe("a conversation's model and system prompt", () => {
    beforeEach(() => e2e.start({ OPENAI_MODELS: 'fake-model,big-model', SYSTEM_PROMPT: 'Server prompt.' }));

    it('answers with the chosen model and system prompt, keeps the model on each answer, and goes back to the defaults', async () => {
      const { id, updatedAt } = (await api('POST', '/api/conversations', {})).json as ConversationJson;
      const patched = await api('PATCH', `/api/conversations/${id}`, { model: 'big-model', systemPrompt: 'Be brief.' });
      expect(patched.status).toBe(200);
      expect(patched.json).toMatchObject({ id, model: 'big-model', systemPrompt: 'Be brief.', updatedAt }); // settings are not activity

      const first = await ask(id, 'hello');
      expect(first.model).toBe('big-model');
      expect(e2e.fake.requests[0].body.model).toBe('big-model');
      expect(e2e.fake.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });

      await api('PATCH', `/api/conversations/${id}`, { model: null, systemPrompt: '  ' });
      const second = await ask(id, 'again');
      expect(second.model).toBe('fake-model');
      expect(e2e.fake.requests[1].body.model).toBe('fake-model');
      expect(e2e.fake.requests[1].body.messages[0]).toEqual({ role: 'system', content: 'Server prompt.' });
      expect((await api('GET', `/api/conversations/${id}`)).json).toMatchObject({ model: null, systemPrompt: null });

      const items = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(items.filter((m) => m.role === 'model').map((m) => m.model)).toEqual(['big-model', 'fake-model']);
    });

    it('takes them at creation too', async () => {
      const created = await api('POST', '/api/conversations', { model: 'big-model', systemPrompt: 'From the start.' });
      expect(created.status).toBe(201);
      const { id } = created.json as ConversationJson;
      expect(created.json).toMatchObject({ model: 'big-model', systemPrompt: 'From the start.' });
      await ask(id, 'hi');
      expect(e2e.fake.requests[0].body).toMatchObject({ model: 'big-model', messages: [{ role: 'system', content: 'From the start.' }, { role: 'user', content: 'hi' }] });
    });

    it('refuses a model outside the list and a system prompt over the cap, changing nothing', async () => {
      const { id } = (await api('POST', '/api/conversations', {})).json as ConversationJson;
      for (const [body, message] of [
        [{ model: 'gpt-9' }, /model "gpt-9" is not one this server offers: see GET \/api\/models/],
        [{ model: 42 }, /model must be a model name or null/],
        [{ systemPrompt: 'x'.repeat(4001) }, /systemPrompt must be shorter than or equal to 4000 characters/],
        [{ title: 'ok', model: 'gpt-9' }, /gpt-9/],
      ] as const) {
        const response = await api('PATCH', `/api/conversations/${id}`, body);
        expect(response.status).toBe(400);
        expect(response.json).toMatchObject({ statusCode: 400, message: expect.stringMatching(message) });
      }
      expect((await api('POST', '/api/conversations', { model: 'gpt-9' })).status).toBe(400);
      expect((await api('GET', `/api/conversations/${id}`)).json).toMatchObject({ title: null, model: null, systemPrompt: null });
    });
  });

  describe('AI SDK (DefaultChatTransport): ids map to stored messages', () => {
    beforeEach(() => e2e.start());

    const transport = (body?: object) => new DefaultChatTransport<UIMessage>({ api: `${e2e.url}/api/chat`, body });
    const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });
    async function lastMessage(stream: ReadableStream<UIMessageChunk>): Promise<UIMessage> {
      let last: UIMessage | undefined;
      for await (const message of readUIMessageStream({ stream })) last = message;
      return last!;
    }
    const textOf = (message: UIMessage) => message.parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
    const send = async (chatId: string, messages: UIMessage[], options: { trigger?: 'submit-message' | 'regenerate-message'; messageId?: string; body?: object } = {}) =>
      lastMessage(
        await transport(options.body).sendMessages({
          chatId,
          messages,
          trigger: options.trigger ?? 'submit-message',
          messageId: options.messageId,
          abortSignal: undefined,
        }),
      );
    const stored = async (chatId: string) => ((await api('GET', `/api/conversations/${chatId}/messages`)).json as { items: MessageJson[] }).items;
    const lastContext = () => e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content);

    it('hands out stored ids, branches when the client edits a prompt (the first or a later one), and regenerates beside an answer', async () => {
      const chatId = ((await api('POST', '/api/conversations', {})).json as ConversationJson).id;
      const a1 = await send(chatId, [user('u1', 'Q1')]);
      const a2 = await send(chatId, [user('u1', 'Q1'), a1, user('u2', 'Q2')], { body: { model: 'some-model', temperature: 0.2 } });
      const path = await stored(chatId);
      expect(path.map((m) => m.content)).toEqual(['Q1', 're: Q1', 'Q2', 're: Q2']);
      // The assistant message ids the client holds are the stored ids.
      expect([a1.id, a2.id]).toEqual([String(path[1].id), String(path[3].id)]);

      // useChat's edit: the same message id with new text, the messages after it dropped.
      const edited = await send(chatId, [user('u1', 'Q1'), a1, user('u2', 'Q2, edited')]);
      expect(textOf(edited)).toBe('re: Q2, edited');
      expect(lastContext()).toEqual(['Q1', 're: Q1', 'Q2, edited']);
      const afterEdit = await stored(chatId);
      expect(afterEdit.map((m) => m.content)).toEqual(['Q1', 're: Q1', 'Q2, edited', 're: Q2, edited']);
      expect(afterEdit[2].siblingIds).toEqual([path[2].id, afterEdit[2].id]);

      // A client that sends only the last message (prepareSendMessagesRequest) edits the first prompt.
      await send(chatId, [user('u1', 'Q1, edited')]);
      expect(lastContext()).toEqual(['Q1, edited']);
      const afterFirst = await stored(chatId);
      expect(afterFirst.map((m) => m.content)).toEqual(['Q1, edited', 're: Q1, edited']);
      expect(afterFirst[0].siblingIds).toEqual([path[0].id, afterFirst[0].id]);

      // regenerate-message names the answer by the id the client holds: a sibling of it.
      e2e.fake.enqueue({ tokens: ['another'] });
      const regenerated = await send(chatId, [user('u1', 'Q1, edited')], { trigger: 'regenerate-message', messageId: String(afterFirst[1].id) });
      expect(textOf(regenerated)).toBe('another');
      const afterRegenerate = await stored(chatId);
      expect(afterRegenerate.map((m) => m.content)).toEqual(['Q1, edited', 'another']);
      expect(afterRegenerate[1].siblingIds).toEqual([afterFirst[1].id, Number(regenerated.id)]);
      expect(lastContext()).toEqual(['Q1, edited']);
    });

    it('appends a new prompt after the answer the client shows, and regenerates the last answer for an id it does not know', async () => {
      const chatId = 'tree-chat';
      const a1 = await send(chatId, [user('u1', 'Q1')]);
      await send(chatId, [user('u1', 'Q1'), a1, user('u2', 'Q2')]);
      // A second client, still showing only the first exchange, asks on from there: a branch after a1.
      await send(chatId, [user('u1', 'Q1'), a1, user('u3', 'Q3')]);
      expect(lastContext()).toEqual(['Q1', 're: Q1', 'Q3']);
      e2e.fake.enqueue({ tokens: ['again'] });
      await send(chatId, [user('u1', 'Q1'), a1, user('u3', 'Q3')], { trigger: 'regenerate-message', messageId: 'not-a-stored-id' });
      expect(lastContext()).toEqual(['Q1', 're: Q1', 'Q3']);
    });
  });
});
