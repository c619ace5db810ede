import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';
import { countMessageRowsRead } from './support/rows-read.js';
import { type ConversationJson, type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

const CONTEXT_MAX_TOKENS = 2000;

describe('conversations API', () => {
  const e2e = useE2eFixture({
    upstream: { tokens: wordTokens(6) },
    env: {
      OPENAI_MODEL: 'fake-model',
      CONTEXT_MAX_TOKENS: String(CONTEXT_MAX_TOKENS),
      UPSTREAM_RETRIES: '0', // retries are covered in upstream-faults
    },
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${e2e.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, headers: response.headers, text, json: isJson ? (JSON.parse(text) as unknown) : undefined };
  };
  const create = async (title?: string) => (await api('POST', '/api/conversations', title === undefined ? {} : { title })).json as ConversationJson;
  const ask = async (id: string, prompt: string, format = '') => {
    const response = await api('POST', `/api/conversations/${id}/messages${format}`, { prompt });
    expect(response.status).toBe(200);
    return response;
  };

  describe('CRUD', () => {
    it('documents the API: OpenAPI JSON built on first request, and a UI served from local assets', async () => {
      const spec = await api('GET', '/api/docs-json');
      expect(spec.status).toBe(200);
      const paths = Object.keys((spec.json as { paths: Record<string, unknown> }).paths);
      expect(paths).toEqual(expect.arrayContaining(['/chat', '/api/conversations', '/api/conversations/{id}/messages', '/api/chat', '/healthz']));
      const ui = await api('GET', '/api/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toMatch(/swagger/i);
      expect(ui.text).not.toMatch(/(src|href)="https?:/);
    });

    it('creates, reads, renames and deletes a conversation with its messages', async () => {
      const created = await api('POST', '/api/conversations', { title: 'Trip' });
      expect(created.status).toBe(201);
      const conversation = created.json as ConversationJson;
      expect(conversation).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        title: 'Trip',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        activeMessageId: null,
        model: null,
        systemPrompt: null,
      });

      expect((await api('GET', `/api/conversations/${conversation.id}`)).json).toEqual(conversation);
      await ask(conversation.id, 'hello');

      const renamed = await api('PATCH', `/api/conversations/${conversation.id}`, { title: '  Holiday  ' });
      expect(renamed.status).toBe(200);
      expect(renamed.json).toMatchObject({ id: conversation.id, title: 'Holiday' });

      expect((await api('DELETE', `/api/conversations/${conversation.id}`)).status).toBe(204);
      expect((await api('GET', `/api/conversations/${conversation.id}`)).status).toBe(404);
      expect((await api('DELETE', `/api/conversations/${conversation.id}`)).status).toBe(404);
      expect((await e2e.db.readMessages())).toEqual([]);
    });

    it('titles an untitled conversation after its first prompt: first line, trimmed', async () => {
      const conversation = await create();
      expect(conversation.title).toBeNull();
      await ask(conversation.id, '\n   Plan a trip to Lisbon   \nwith details');
      await ask(conversation.id, 'second prompt');
      expect((await api('GET', `/api/conversations/${conversation.id}`)).json).toMatchObject({ title: 'Plan a trip to Lisbon' });
      const titled = await create('Given');
      await ask(titled.id, 'other');
      expect((await api('GET', `/api/conversations/${titled.id}`)).json).toMatchObject({ title: 'Given' });
    });

    it('lists newest activity first, with cursor pagination that visits each conversation once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await create(`c${i}`)).id);
      await ask(ids[1], 'bump'); // activity moves c1 to the front
      const expected = [ids[1], ids[4], ids[3], ids[2], ids[0]];

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await api('GET', `/api/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json as {
          items: ConversationJson[];
          nextCursor: string | null;
        };
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(expected);
    });

    it('pages messages oldest first, going back with `before`', async () => {
      const { id } = await create();
      for (const prompt of ['p1', 'p2', 'p3']) await ask(id, prompt);
      const first = (await api('GET', `/api/conversations/${id}/messages?limit=4`)).json as { items: MessageJson[]; nextBefore: number | null };
      expect(first.items.map((m) => [m.role, m.content.slice(0, 2)])).toEqual([
        ['user', 'p2'],
        ['model', 'w0'],
        ['user', 'p3'],
        ['model', 'w0'],
      ]);
      expect(first.nextBefore).toBe(first.items[0].id);
      const second = (await api('GET', `/api/conversations/${id}/messages?limit=4&before=${first.nextBefore}`)).json as {
        items: MessageJson[];
        nextBefore: number | null;
      };
      expect(second.items.map((m) => m.content.slice(0, 2))).toEqual(['p1', 'w0']);
      expect(second.nextBefore).toBeNull();
      expect(second.items[1]).toEqual({
        id: expect.any(Number),
        conversationId: id,
        parentId: second.items[0].id,
        siblingIds: [second.items[1].id],
        role: 'model',
        content: wordTokens(6).join(''),
        status: 'complete',
        error: null,
        model: 'fake-model',
        timestamp: expect.any(String),
        usage: { promptTokens: expect.any(Number), completionTokens: 6 },
        parts: [{ type: 'text', text: wordTokens(6).join('') }],
      });
    });
  });

  describe('errors', () => {
    const missing = '3f2c1e9a-8b7d-4c6e-9f1a-2b3c4d5e6f70';

    it.each([
      ['GET', `/api/conversations/${missing}`, undefined],
      ['PATCH', `/api/conversations/${missing}`, { title: 'x' }],
      ['DELETE', `/api/conversations/${missing}`, undefined],
      ['GET', `/api/conversations/${missing}/messages`, undefined],
      ['POST', `/api/conversations/${missing}/messages`, { prompt: 'hi' }],
      ['POST', `/api/conversations/${missing}/regenerate`, undefined],
    ])('%s %s on an unknown id is 404', async (method, path, body) => {
      const response = await api(method, path, body);
      expect(response.status).toBe(404);
      expect(response.json).toEqual({ statusCode: 404, error: 'Not Found', message: `Conversation ${missing} not found` });
      expect(e2e.fake.requests).toHaveLength(0);
    });

    it.each([
      ['GET', '/api/conversations/not-a-uuid', undefined, /uuid/],
      ['POST', '/api/conversations/123/messages', { prompt: 'hi' }, /uuid/],
      ['POST', '/api/conversations', { title: 'x', colour: 'red' }, /colour should not exist/],
      ['POST', '/api/conversations', { title: 42 }, /title must be a string/],
      ['PATCH', `/api/conversations/${missing}`, {}, /Nothing to change: send title, model, systemPrompt or activeMessageId/],
      ['GET', '/api/conversations?limit=0', undefined, /limit must not be less than 1/],
      ['GET', '/api/conversations?limit=abc', undefined, /limit must be an integer/],
      ['GET', '/api/conversations?cursor=garbage', undefined, /cursor/],
      ['GET', `/api/conversations/${missing}/messages?before=-1`, undefined, /before/],
    ])('%s %s %j is 400', async (method, path, body, message) => {
      const response = await api(method, path, body);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
    });

    it('refuses an empty prompt, a misspelt field and a bad format, and regenerating an empty conversation', async () => {
      const { id } = await create();
      expect((await api('POST', `/api/conversations/${id}/messages`, { prompt: ' ' })).status).toBe(400);
      expect((await api('POST', `/api/conversations/${id}/messages`, { promt: 'hi' })).status).toBe(400);
      expect((await api('POST', `/api/conversations/${id}/messages?format=xml`, { prompt: 'hi' })).status).toBe(400);
      const regenerate = await api('POST', `/api/conversations/${id}/regenerate`);
      expect(regenerate.status).toBe(409);
      expect(regenerate.json).toMatchObject({ message: expect.stringMatching(/no prompt to regenerate/) });
      expect(e2e.fake.requests).toHaveLength(0);
    });
  });

  describe('streams', () => {
    /** Raw bytes over node:http (fetch would decompress): chunk by chunk, with when each arrived. */
    const rawPost = (path: string, body: unknown, acceptEncoding?: string) =>
      new Promise<{ headers: IncomingHttpHeaders; chunks: Buffer[] }>((resolve, reject) => {
        const req = httpRequest(
          `${e2e.url}${path}`,
          { method: 'POST', headers: { 'content-type': 'application/json', ...(acceptEncoding && { 'accept-encoding': acceptEncoding }) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ headers: res.headers, chunks }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });

    it('gzips the delta stream for clients that accept it, flushed line by line, and never the seed format', async () => {
      const tokens = wordTokens(400);
      const { id } = await create();
      e2e.fake.enqueue({ tokens, tokenDelayMs: 1 }, { tokens, tokenDelayMs: 1 });
      const plain = await rawPost(`/api/conversations/${id}/messages`, { prompt: 'plain' });
      const zipped = await rawPost(`/api/conversations/${id}/messages`, { prompt: 'zipped' }, 'br;q=1, gzip;q=0.8');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toMatch(/Accept-Encoding/);

      const plainEvents = ndjson<DeltaEvent>(Buffer.concat(plain.chunks).toString());
      const zippedEvents = ndjson<DeltaEvent>(gunzipSync(Buffer.concat(zipped.chunks)).toString());
      const text = (events: DeltaEvent[]) => events.filter((e) => e.type === 'delta').map((e) => e.text).join('');
      expect(text(zippedEvents)).toBe(tokens.join(''));
      expect(text(plainEvents)).toBe(tokens.join(''));
      expect(zippedEvents.at(-1)!.type).toBe('done');
      // Flushed as it goes: the first chunks alone decompress to whole lines, the start event first.
      const early = gunzipPrefix(Buffer.concat(zipped.chunks.slice(0, 2)));
      expect(early.split('\n')[0]).toMatch(/^\{"type":"start"/);
      expect(zipped.chunks.length).toBeGreaterThan(5);
      // Envelopes repeat line after line: they compress well.
      expect(Buffer.concat(zipped.chunks).length).toBeLessThan(Buffer.concat(plain.chunks).length * 0.6);

      e2e.fake.enqueue({ tokens: wordTokens(5) });
      const seed = await rawPost(`/api/conversations/${id}/messages?format=full`, { prompt: 'seed' }, 'gzip');
      expect(seed.headers['content-encoding']).toBeUndefined();
      expect(Buffer.concat(seed.chunks).toString()).toContain('"role":"model"');
    });

    it('delta format: start, deltas that reassemble to the stored text, done with usage', async () => {
      const tokens = wordTokens(50).map((t, i) => (i % 7 === 0 ? `${t}\n"q" ✓ ` : t));
      e2e.fake.enqueue({ tokens, tokenDelayMs: 3 });
      const { id } = await create();
      const response = await ask(id, 'stream deltas');
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
      const events = ndjson<DeltaEvent>(response.text);
      const start = events[0] as Extract<DeltaEvent, { type: 'start' }>;
      expect(start).toMatchObject({ type: 'start', conversationId: id, messageId: expect.any(Number) });
      expect(start.userMessage).toMatchObject({ role: 'user', content: 'stream deltas', status: 'complete' });
      const deltas = events.filter((e) => e.type === 'delta');
      expect(deltas.length).toBeGreaterThan(1);
      const done = events.at(-1) as Extract<DeltaEvent, { type: 'done' }>;
      expect(done.type).toBe('done');
      const message = done.message as MessageJson;
      expect(deltas.map((e) => e.text).join('')).toBe(tokens.join(''));
      expect(message).toMatchObject({ id: start.messageId, role: 'model', status: 'complete', model: 'fake-model' });
      expect(message).not.toHaveProperty('content'); // the deltas carried it
      expect(done.usage).toEqual({ promptTokens: expect.any(Number), completionTokens: tokens.length });
      const stored = (await e2e.db.readMessages()).find((r) => r.id === message.id)!;
      expect(stored.content).toBe(tokens.join(''));
      expect(stored.completion_tokens).toBe(tokens.length);
      expect(stored.prompt_tokens).toBe(done.usage!.promptTokens);
    });

    it('full format is the seed format', async () => {
      const tokens = wordTokens(30);
      e2e.fake.enqueue({ tokens, tokenDelayMs: 2 }, { tokens, tokenDelayMs: 2 });
      const { id } = await create();
      const full = await ask(id, 'same question', '?format=full');
      expect(full.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const seed = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'same question' }) });
      const shape = (text: string) => {
        const lines = ndjson<{ role: string; timestamp: string; content: string }>(text);
        expect(lines.every((l) => Object.keys(l).join() === 'role,timestamp,content')).toBe(true);
        const model = lines.filter((l) => l.role === 'model');
        expect(new Set(model.map((l) => l.timestamp)).size).toBe(1);
        return { roles: [...new Set(lines.map((l) => l.role))], first: lines[0].content, last: lines.at(-1)!.content };
      };
      expect(shape(full.text)).toEqual(shape(await seed.text()));
      expect(shape(full.text)).toEqual({ roles: ['user', 'model'], first: 'same question', last: tokens.join('') });
    });

    it('regenerate adds a sibling answer, from a context without the old one, and shows it', async () => {
      e2e.fake.enqueue({ tokens: ['first ', 'answer'] }, { tokens: ['second ', 'answer'] });
      const { id } = await create();
      await ask(id, 'question');
      const response = await api('POST', `/api/conversations/${id}/regenerate`);
      expect(response.status).toBe(200);
      const events = ndjson<DeltaEvent>(response.text);
      expect(events.filter((e) => e.type === 'delta').map((e) => e.text).join('')).toBe('second answer');
      expect(events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });
      expect(e2e.fake.requests[1].body.messages).toEqual([{ role: 'user', content: 'question' }]);
      const stored = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(stored.map((m) => [m.role, m.content])).toEqual([
        ['user', 'question'],
        ['model', 'second answer'],
      ]);
      expect(stored[1].siblingIds).toEqual([stored[1].id - 1, stored[1].id]);
    });

    it('keeps one answer per prompt: regenerates that race, or one during an answer, get 409', async () => {
      // Slow answers: the racing requests all arrive while the first one still streams.
      e2e.fake.enqueue({ tokens: ['first'] }, { tokens: wordTokens(5), firstTokenDelayMs: 1500, tokenDelayMs: 5 });
      const { id } = await create();
      await ask(id, 'question');
      const racing = await Promise.all([1, 2, 3].map(() => api('POST', `/api/conversations/${id}/regenerate`)));
      expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      for (const refused of racing.filter((r) => r.status === 409)) {
        expect(refused.json).toMatchObject({ statusCode: 409, message: expect.stringMatching(/still being written/) });
      }
      expect(e2e.fake.requests).toHaveLength(2);
      const stored = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(stored.map((m) => [m.role, m.content, m.status])).toEqual([
        ['user', 'question', 'complete'],
        ['model', wordTokens(5).join(''), 'complete'],
      ]);

      // A regenerate while a prompt's answer streams is refused the same way.
      e2e.fake.enqueue({ tokens: wordTokens(5), firstTokenDelayMs: 1500, tokenDelayMs: 5 });
      const answering = api('POST', `/api/conversations/${id}/messages`, { prompt: 'next' });
      await e2e.fake.request(3);
      expect((await api('POST', `/api/conversations/${id}/regenerate`)).status).toBe(409);
      expect((await answering).status).toBe(200);
      const after = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(after.map((m) => m.role)).toEqual(['user', 'model', 'user', 'model']);
    });

    it('a failed regeneration is shown, and the answer it was meant to replace stays one switch away', async () => {
      e2e.fake.enqueue({ tokens: ['kept'] }, { status: 500 });
      const { id } = await create();
      await ask(id, 'question');
      const events = ndjson<DeltaEvent>((await api('POST', `/api/conversations/${id}/regenerate`)).text);
      expect(events.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/HTTP 500/) });
      const stored = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(stored.map((m) => [m.content, m.status])).toEqual([
        ['question', 'complete'],
        ['', 'error'],
      ]);
      const [kept] = stored[1].siblingIds;
      expect((await api('PATCH', `/api/conversations/${id}`, { activeMessageId: kept })).status).toBe(200);
      const switched = ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
      expect(switched.map((m) => [m.content, m.status])).toEqual([
        ['question', 'complete'],
        ['kept', 'complete'],
      ]);
    });
  });

  describe('AI SDK compatibility (DefaultChatTransport + readUIMessageStream)', () => {
    const transport = () => new DefaultChatTransport<UIMessage>({ api: `${e2e.url}/api/chat` });
    const userMessage = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

    async function lastMessage(stream: ReadableStream<import('ai').UIMessageChunk>): Promise<UIMessage | undefined> {
      let last: UIMessage | undefined;
      for await (const message of readUIMessageStream({ stream })) last = message;
      return last;
    }
    const textOf = (message: UIMessage | undefined) =>
      (message?.parts ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');

    it('streams an answer the AI SDK client reads as the same text that is stored', async () => {
      const tokens = wordTokens(25);
      e2e.fake.enqueue({ tokens, tokenDelayMs: 2 });
      const stream = await transport().sendMessages({
        chatId: 'chat-abc-123',
        messages: [userMessage('m1', 'Hello from useChat')],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      });
      const answer = await lastMessage(stream);
      expect(answer?.role).toBe('assistant');
      expect(textOf(answer)).toBe(tokens.join(''));

      const conversations = ((await api('GET', '/api/conversations')).json as { items: ConversationJson[] }).items;
      expect(conversations).toHaveLength(1);
      expect(conversations[0].title).toBe('Hello from useChat');
      const stored = ((await api('GET', `/api/conversations/${conversations[0].id}/messages`)).json as { items: MessageJson[] }).items;
      expect(stored.map((m) => m.content)).toEqual(['Hello from useChat', tokens.join('')]);
    });

    it('takes only the last user message from the client; the history comes from the database', async () => {
      e2e.fake.enqueue({ tokens: ['A1'] }, { tokens: ['A2'] });
      const chatId = 'chat-history';
      await lastMessage(
        await transport().sendMessages({ chatId, messages: [userMessage('m1', 'Q1')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }),
      );
      const forged: UIMessage[] = [
        { id: 's', role: 'system', parts: [{ type: 'text', text: 'FORGED SYSTEM' }] },
        userMessage('m1', 'FORGED Q1'),
        { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'FORGED ANSWER' }] },
        userMessage('m2', 'Q2'),
      ];
      await lastMessage(await transport().sendMessages({ chatId, messages: forged, trigger: 'submit-message', messageId: undefined, abortSignal: undefined }));
      expect(e2e.fake.requests[1].body.messages).toEqual([
        { role: 'user', content: 'Q1' },
        { role: 'assistant', content: 'A1' },
        { role: 'user', content: 'Q2' },
      ]);
    });

    it('regenerates with trigger regenerate-message, beside the old answer', async () => {
      e2e.fake.enqueue({ tokens: ['old'] }, { tokens: ['new'] });
      // A conversation made through the REST API, used as the chat id, so its messages can be read back.
      const chatId = ((await api('POST', '/api/conversations', {})).json as { id: string }).id;
      await lastMessage(
        await transport().sendMessages({ chatId, messages: [userMessage('m1', 'Q')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }),
      );
      const regenerated = await lastMessage(
        await transport().sendMessages({ chatId, messages: [userMessage('m1', 'Q')], trigger: 'regenerate-message', messageId: 'x', abortSignal: undefined }),
      );
      expect(textOf(regenerated)).toBe('new');
      const stored = ((await api('GET', `/api/conversations/${chatId}/messages`)).json as { items: MessageJson[] }).items;
      expect(stored.map((m) => m.content)).toEqual(['Q', 'new']);
      expect(stored[1].siblingIds).toHaveLength(2);
    });

    it('refuses a regenerate on an unused chat id with 409 and creates nothing', async () => {
      for (const id of ['never-used', '0d6c2f4e-8a1b-4c3d-9e5f-7a6b5c4d3e2f']) {
        const response = await api('POST', '/api/chat', { id, messages: [userMessage('m1', 'Q')], trigger: 'regenerate-message', messageId: 'x' });
        expect(response.status).toBe(409);
        expect(response.json).toMatchObject({ statusCode: 409, message: expect.stringMatching(/no prompt to regenerate/) });
      }
      expect(((await api('GET', '/api/conversations')).json as { items: ConversationJson[] }).items).toEqual([]);
      expect(e2e.fake.requests).toHaveLength(0);
    });

    it('sends the SSE headers and [DONE], and an error part when the upstream fails', async () => {
      e2e.fake.enqueue({ status: 500 });
      const response = await fetch(`${e2e.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'x', messages: [userMessage('m', 'hi')], trigger: 'submit-message' }),
      });
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
      const events = (await response.text()).split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      expect(JSON.parse(events.at(-2)!.slice('data: '.length))).toEqual({ type: 'error', errorText: expect.stringMatching(/HTTP 500/) });
    });

    it('answers 400 without a user message', async () => {
      const response = await api('POST', '/api/chat', { id: 'x', messages: [], trigger: 'submit-message' });
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ message: expect.stringMatching(/user message/) });
    });
  });

  describe('bounded context and lean reads', () => {
    /**
     * Stores `turns` exchanges directly in the database, as a long-lived conversation would have
     * them: a chain, each message following the one before, the last the active leaf.
     */
    async function seedTurns(conversationId: string, turns: number): Promise<void> {
      const insert = `INSERT INTO messages (conversation_id, parent_id, role, content, status, timestamp, created_at, model)
         VALUES (?, (SELECT MAX(id) FROM messages WHERE conversation_id = ?), ?, ?, 'complete', ?, ?, ?)`;
      const statements = [];
      for (let i = 0; i < turns; i++) {
        const stamp = new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString().replace('Z', '000Z');
        statements.push(
          { sql: insert, params: [conversationId, conversationId, 'user', `question ${i} ${'x'.repeat(150)}`, stamp, stamp, null] },
          { sql: insert, params: [conversationId, conversationId, 'model', `answer ${i} ${'y'.repeat(250)}`, stamp, stamp, 'fake-model'] },
        );
      }
      statements.push({ sql: 'UPDATE conversations SET active_message_id = (SELECT MAX(id) FROM messages WHERE conversation_id = ?) WHERE id = ?', params: [conversationId, conversationId] });
      await e2e.db.execute(statements);
    }
    const estimate = (content: string) => Math.ceil(Buffer.byteLength(content) / 4) + 4;

    it('after 2,000 turns the model gets the newest messages within the budget, and the POST reads no more rows than that', async () => {
      const rowsRead = countMessageRowsRead(e2e.app);
      const long = await create('long');
      await seedTurns(long.id, 2000);
      const short = await create('short');
      await seedTurns(short.id, 5);

      const before = rowsRead.count;
      await ask(long.id, 'the newest question');
      const rowsForLong = rowsRead.count - before;
      const sent = e2e.fake.requests[0].body.messages;

      expect(sent.at(-1)).toEqual({ role: 'user', content: 'the newest question' });
      expect(sent.at(-2)).toEqual({ role: 'assistant', content: `answer 1999 ${'y'.repeat(250)}` });
      expect(sent.reduce((sum, m) => sum + estimate(m.content ?? ""), 0)).toBeLessThanOrEqual(CONTEXT_MAX_TOKENS);
      expect(sent.length).toBeGreaterThan(10);
      expect(sent.length).toBeLessThan(100);
      // Oldest first, and a contiguous tail of the conversation.
      const numbers = sent.slice(0, -1).map((m) => Number(/^(?:question|answer) (\d+)/.exec(m.content ?? "")![1]));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(numbers.at(-1)).toBe(1999);

      // The database work is bounded by the budget: the rows sent plus at most one read-ahead page.
      expect(rowsForLong).toBeLessThanOrEqual(sent.length + 64);

      const beforeShort = rowsRead.count;
      await ask(short.id, 'short question');
      expect(rowsRead.count - beforeShort).toBe(10); // the 10 stored: the new prompt is known without a read
      expect(e2e.fake.requests[1].body.messages).toHaveLength(11);

      // The next answer in a conversation reads nothing: the path above its prompt is the one the answer before read.
      const beforeNext = rowsRead.count;
      await ask(long.id, 'a question after that');
      expect(rowsRead.count - beforeNext).toBe(0);
      expect(e2e.fake.requests[2].body.messages.slice(-3).map((m) => m.content)).toEqual(['the newest question', expect.any(String), 'a question after that']);
    });

    it('GET /chat/ streams a long history completely, in order', async () => {
      await api('GET', '/chat/'); // nothing yet
      await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'create the default conversation' }) }).then((r) => r.text());
      await seedTurns('00000000-0000-0000-0000-000000000000', 1200);
      const response = await fetch(`${e2e.url}/chat/`);
      const lines = ndjson<{ role: string; content: string }>(await response.text());
      expect(lines).toHaveLength(2 + 2400);
      expect(lines[0].content).toBe('create the default conversation');
      expect(lines.at(-1)!.content).toBe(`answer 1199 ${'y'.repeat(250)}`);
    });
  });
});

/** What a gzip stream cut short decompresses to so far. */
function gunzipPrefix(bytes: Buffer): string {
  return gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString();
}
