import { type RunningApp, startApp, tempDir } from './support/app-harness.js';
import { type TestDatabase, testDatabase } from './support/database.js';
import { FakeOpenAi } from './support/fake-openai.js';

const MAX_PROMPT_CHARS = 1000;

describe('bad input gets a clear 4xx JSON error and changes nothing', () => {
  let fake: FakeOpenAi;
  let dir: ReturnType<typeof tempDir>;
  let running: RunningApp;
  let db: TestDatabase;

  beforeAll(async () => {
    fake = await FakeOpenAi.start();
    dir = tempDir();
    db = await testDatabase(dir.path);
    running = await startApp({
      OPENAI_BASE_URL: fake.baseURL,
      DATABASE_URL: db.url,
      MAX_PROMPT_CHARS: String(MAX_PROMPT_CHARS),
    });
  });

  afterAll(async () => {
    await running.close();
    await fake.close();
    await db.drop();
    dir.remove();
  });

  const form = (fields: Record<string, string | Blob>) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    return data;
  };
  const json = (body: string) => ({ body, headers: { 'content-type': 'application/json' } });

  it.each<[string, () => RequestInit, number, RegExp]>([
    ['no body at all', () => ({}), 400, /prompt is required/],
    ['a form without prompt', () => ({ body: form({ other: 'x' }) }), 400, /prompt is required/],
    ['an empty prompt', () => ({ body: new URLSearchParams({ prompt: '' }) }), 400, /prompt must not be empty/],
    ['a whitespace-only prompt', () => ({ body: form({ prompt: ' \n\t ' }) }), 400, /prompt must not be empty/],
    ['a JSON number', () => json('{"prompt": 42}'), 400, /prompt must be text/],
    ['a JSON list', () => json('{"prompt": ["a"]}'), 400, /prompt must be text/],
    ['a JSON array body', () => json('["prompt"]'), 400, /body must be a JSON object/],
    ['malformed JSON', () => json('{"prompt": '), 400, /not valid JSON/],
    ['a broken multipart body', () => ({ body: 'garbage', headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 400, /Multipart/],
    ['a file part', () => ({ body: form({ prompt: new Blob(['hi']) }) }), 400, /File uploads are not accepted/],
    ['a file beside the prompt', () => ({ body: form({ prompt: 'hi', attachment: new File(['x'], 'x.txt') }) }), 400, /File uploads are not accepted/],
    ['a prompt over MAX_PROMPT_CHARS', () => ({ body: new URLSearchParams({ prompt: 'a'.repeat(MAX_PROMPT_CHARS + 1) }) }), 413, /prompt is longer than the limit of 1000 characters/],
    ['an emoji prompt over the limit in characters', () => json(JSON.stringify({ prompt: '😀'.repeat(MAX_PROMPT_CHARS + 1) })), 413, /prompt is longer/],
    ['a urlencoded body over the limit', () => ({ body: new URLSearchParams({ prompt: 'a'.repeat(MAX_PROMPT_CHARS * 40) }) }), 413, /request body is larger than the limit/],
    ['a JSON body over the limit', () => json(JSON.stringify({ prompt: 'a'.repeat(MAX_PROMPT_CHARS * 40) })), 413, /request body is larger than the limit/],
    ['a multipart field over the limit', () => ({ body: form({ prompt: 'a'.repeat(MAX_PROMPT_CHARS * 40) }) }), 413, /request body is larger than the limit/],
    ['a cross-site form post', () => ({ body: new URLSearchParams({ prompt: 'hi' }), headers: { origin: 'https://evil.example' } }), 403, /Cross-site/],
    ['a cross-site fetch', () => ({ body: new URLSearchParams({ prompt: 'hi' }), headers: { 'sec-fetch-site': 'cross-site' } }), 403, /Cross-site/],
    ['an opaque origin', () => ({ body: new URLSearchParams({ prompt: 'hi' }), headers: { origin: 'null' } }), 403, /Cross-site/],
  ])('%s', async (_, makeRequest, status, message) => {
    const response = await fetch(`${running.url}/chat/`, { method: 'POST', ...makeRequest() });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d/);
    const body = JSON.parse(text) as { statusCode: number; error: string; message: string };
    expect(body).toEqual({ statusCode: status, error: expect.any(String), message: expect.stringMatching(message) });
    expect((await db.readMessages())).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('accepts a prompt of exactly MAX_PROMPT_CHARS, and a same-origin browser post', async () => {
    const exact = await fetch(`${running.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'é'.repeat(MAX_PROMPT_CHARS) }) });
    expect(exact.status).toBe(200);
    await exact.text();
    const sameOrigin = await fetch(`${running.url}/chat/`, {
      method: 'POST',
      body: new URLSearchParams({ prompt: 'hi' }),
      headers: { origin: running.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.status).toBe(200);
    await sameOrigin.text();
    expect((await db.readMessages()).filter((r) => r.role === 'user')).toHaveLength(2);
  });

  it('answers unknown routes with the same JSON error shape', async () => {
    const response = await fetch(`${running.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });

  // ---- shared by the blocks below ----

  interface Answer {
    readonly status: number;
    readonly contentType: string | null;
    readonly text: string;
  }

  const send = async (method: string, path: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await fetch(`${running.url}${path}`, { method, ...init });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  };

  const parsed = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };

  const conversations = async () => (JSON.parse((await send('GET', '/api/conversations?limit=100')).text) as { items: unknown[] }).items;

  /** A 4xx in the JSON error shape, no stack, and nothing stored, renamed or asked of the model meanwhile. */
  async function refused(request: () => Promise<Answer>, status: number, message: RegExp): Promise<void> {
    const rows = await db.readMessages();
    const calls = fake.requests.length;
    const before = await conversations();
    const answer = await request();
    expect({ status: answer.status, body: parsed(answer.text) }).toEqual({
      status,
      body: { statusCode: status, error: expect.any(String), message: expect.stringMatching(message) },
    });
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d/);
    expect(await db.readMessages()).toEqual(rows);
    expect(fake.requests).toHaveLength(calls);
    expect(await conversations()).toEqual(before);
  }

  /** The status, with the body shown when it is an error, so a failure says why. */
  const outcome = (answer: Answer) => ({ status: answer.status, error: answer.status >= 400 ? answer.text : undefined });

  const lastPrompt = async () => (await db.readMessages()).filter((row) => row.role === 'user').at(-1)?.content;

  const createConversation = async (title: string) => {
    const created = await send('POST', '/api/conversations', json(JSON.stringify({ title })));
    expect(outcome(created)).toEqual({ status: 201 });
    return (JSON.parse(created.text) as { id: string }).id;
  };

  describe('deeply nested JSON', () => {
    let id: string;
    beforeAll(async () => {
      id = await createConversation('target');
    });

    const arrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const objects = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    const aiSdkBody = (extra: string) => `{"id":"deep","messages":[{"role":"user","parts":[{"type":"text","text":"hi"}]}],"x":${extra}}`;
    const routes: [string, string, () => string, (value: string) => string][] = [
      ['POST /chat/', 'POST', () => '/chat/', (value) => `{"prompt":"x","x":${value}}`],
      ['POST /api/conversations', 'POST', () => '/api/conversations', (value) => `{"title":${value}}`],
      ['PATCH /api/conversations/:id', 'PATCH', () => `/api/conversations/${id}`, (value) => `{"title":"y","x":${value}}`],
      ['POST /api/conversations/:id/messages', 'POST', () => `/api/conversations/${id}/messages`, (value) => `{"prompt":${value}}`],
      ['POST /api/chat', 'POST', () => '/api/chat', aiSdkBody],
    ];
    const shapes: [string, string][] = [
      ['3,000 nested arrays', arrays(3000)],
      ['2,000 nested objects', objects(2000)],
      // Inside the body's own object: 33 levels in all.
      ['one level past the limit', arrays(32)],
    ];
    const cases = routes.flatMap(([route, method, path, body]) => shapes.map(([shape, value]) => [route, shape, method, path, body(value)] as const));

    it.each(cases)('%s with %s: 400', async (_route, _shape, method, path, body) => {
      await refused(() => send(method, path(), json(body)), 400, /nested more than 32 levels deep/);
    });

    it.each(routes)('%s with a body that is itself 3,000 nested arrays: 400', async (_route, method, path) => {
      await refused(() => send(method, path(), json(arrays(3000))), 400, /nested more than 32 levels deep/);
    });

    it('refuses JSON in a charset other than UTF-8 (the nesting check reads UTF-8)', async () => {
      const body = Buffer.from(`{"prompt":"x","x":${arrays(3000)}}`, 'utf16le');
      await refused(() => send('POST', '/chat/', { body, headers: { 'content-type': 'application/json; charset=utf-16le' } }), 415, /charset/);
    });

    it('accepts 32 levels, and brackets inside strings do not count', async () => {
      expect(outcome(await send('POST', '/api/chat', json(aiSdkBody(arrays(31)))))).toEqual({ status: 200 });
      const prompt = '"[{\\'.repeat(200);
      expect(outcome(await send('POST', '/chat/', json(JSON.stringify({ prompt }))))).toEqual({ status: 200 });
      expect(await lastPrompt()).toBe(prompt);
    });
  });

  describe('the AI SDK body', () => {
    const text = (value: unknown) => ({ type: 'text', text: value });
    const user = (parts: unknown) => ({ id: 'u', role: 'user', parts });
    const chat = (messages: unknown, extra: object = {}) => JSON.stringify({ id: 'shape', messages, trigger: 'submit-message', ...extra });

    it.each<[string, string, RegExp]>([
      ['parts a string', chat([user('hi')]), /messages\.0\.parts must be an array/],
      ['parts an object', chat([user(text('hi'))]), /messages\.0\.parts must be an array/],
      ['parts missing on the last user message', chat([{ role: 'user' }]), /messages\.0\.parts must be an array/],
      ['parts null', chat([user(null)]), /messages\.0\.parts must be an array/],
      ['bad parts on an earlier message', chat([{ role: 'assistant', parts: 'x' }, user([text('hi')])]), /messages\.0\.parts must be an array/],
      ['messages an object', chat({ 0: user([text('hi')]) }), /messages must be an array/],
      ['messages missing', JSON.stringify({ id: 'shape' }), /messages must be an array/],
      ['a message null', chat([null, user([text('hi')])]), /messages\.0 must be an object/],
      ['a message a string', chat(['hi']), /messages\.0 must be an object/],
      ['a message a list', chat([[user([text('hi')])]]), /messages\.0 must be an object/],
      ['role a number', chat([{ role: 1, parts: [text('hi')] }]), /messages\.0\.role must be one of/],
      ['role missing', chat([{ parts: [text('hi')] }]), /messages\.0\.role must be one of/],
      ['an unknown role', chat([{ role: 'robot', parts: [text('hi')] }]), /messages\.0\.role must be one of/],
      ['a message id that is a number', chat([{ id: 7, role: 'user', parts: [text('hi')] }]), /messages\.0\.id must be a string/],
      ['a text part with numeric text', chat([user([text(5)])]), /messages\.0\.parts\.0\.text must be a string/],
      ['a text part without text', chat([user([{ type: 'text' }])]), /messages\.0\.parts\.0\.text must be a string/],
      ['a part null', chat([user([text('hi'), null])]), /messages\.0\.parts\.1 must be an object/],
      ['a part a string', chat([user(['hi'])]), /messages\.0\.parts\.0 must be an object/],
      ['a part without a type', chat([user([{ text: 'hi' }])]), /messages\.0\.parts\.0\.type must be a string/],
      ['a part with a numeric type', chat([user([{ type: 1, text: 'hi' }])]), /messages\.0\.parts\.0\.type must be a string/],
      ['the chat id a number', JSON.stringify({ id: 5, messages: [user([text('hi')])] }), /id must be a string/],
      ['an unknown trigger', chat([user([text('hi')])], { trigger: 'resume' }), /trigger must be one of/],
      ['the body a list', JSON.stringify([user([text('hi')])]), /body must be a JSON object/],
    ])('%s: 400', async (_, body, message) => {
      await refused(() => send('POST', '/api/chat', json(body)), 400, message);
    });

    it('accepts every part type the AI SDK sends, and the extra body fields of DefaultChatTransport', async () => {
      const body = chat(
        [
          { id: 's', role: 'system', parts: [text('be brief')] },
          {
            id: 'u1',
            role: 'user',
            metadata: { sentAt: 1 },
            parts: [text('weather?'), { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,AA==' }],
          },
          {
            id: 'a1',
            role: 'assistant',
            parts: [
              { type: 'step-start' },
              { type: 'reasoning', text: 'hmm', state: 'done' },
              { type: 'tool-weather', toolCallId: 't1', state: 'output-available', input: { city: 'Oslo' }, output: { days: [1, { c: 2 }] } },
              { type: 'dynamic-tool', toolName: 'x', toolCallId: 't2', state: 'input-streaming', input: null },
              { type: 'data-status', data: { ok: true } },
              { type: 'source-url', sourceId: 's1', url: 'https://example.com' },
              { type: 'text', text: 'sunny', state: 'done' },
            ],
          },
          { id: 'u2', role: 'user', parts: [{ type: 'data-context', data: [1, 2] }, text('and '), text('tomorrow?')] },
        ],
        { temperature: 0.3, custom: { nested: ['ok'] } },
      );
      expect(outcome(await send('POST', '/api/chat', json(body)))).toEqual({ status: 200 });
      expect(await lastPrompt()).toBe('and tomorrow?');
    });
  });

  describe('the body limit holds for every encoding of POST /chat/', () => {
    // MAX_PROMPT_CHARS=1000 gives a body limit of 1000 × 9 + 16 KiB = 25,384 bytes.
    const fields = (count: number, size: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`extra${i}`, 'x'.repeat(size)]));
    const encoded = async (data: FormData) => {
      const request = new Request('http://localhost/', { method: 'POST', body: data });
      return { bytes: new Uint8Array(await request.arrayBuffer()), type: request.headers.get('content-type')! };
    };
    /** Sent in 4 KiB chunks without a Content-Length (Transfer-Encoding: chunked). */
    const chunked = (bytes: Uint8Array, type: string): RequestInit =>
      ({
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 4096) controller.enqueue(bytes.slice(at, at + 4096));
            controller.close();
          },
        }),
        duplex: 'half',
        headers: { 'content-type': type },
      }) as RequestInit;
    /** A multipart body with `preamble` bytes before its first boundary, which parsers skip. */
    const withPreamble = async (preamble: number) => {
      const { bytes, type } = await encoded(form({ prompt: 'hi' }));
      return { bytes: Buffer.concat([Buffer.from(`${'p'.repeat(preamble)}\r\n`), bytes]), type };
    };

    it('fifteen 2,000-byte fields beside the prompt: 413', async () => {
      await refused(() => send('POST', '/chat/', { body: form({ prompt: 'hi', ...fields(15, 2000) }) }), 413, /request body is larger than the limit of 25384 bytes/);
    });

    it('the same, chunked: 413', async () => {
      const { bytes, type } = await encoded(form({ prompt: 'hi', ...fields(15, 2000) }));
      await refused(() => send('POST', '/chat/', chunked(bytes, type)), 413, /request body is larger than the limit of 25384 bytes/);
    });

    it('30 KB the parser would skip, before the first part: 413, with a Content-Length or chunked', async () => {
      const { bytes, type } = await withPreamble(30_000);
      await refused(() => send('POST', '/chat/', { body: bytes, headers: { 'content-type': type } }), 413, /larger than the limit of 25384 bytes/);
      await refused(() => send('POST', '/chat/', chunked(bytes, type)), 413, /larger than the limit of 25384 bytes/);
    });

    it.each<[string, () => RequestInit]>([
      ['multipart', () => ({ body: form({ prompt: 'hi', ...fields(16, 1) }) })],
      ['urlencoded', () => ({ body: new URLSearchParams({ prompt: 'hi', ...fields(16, 1) }) })],
      ['JSON', () => json(JSON.stringify({ prompt: 'hi', ...fields(16, 1) }))],
    ])('seventeen fields, %s: 413', async (_, request) => {
      await refused(() => send('POST', '/chat/', request()), 413, /too many fields/);
    });

    it.each<[string, () => RequestInit]>([
      ['multipart', () => ({ body: form({ prompt: 'hi', extra0: 'x'.repeat(1025) }) })],
      ['urlencoded', () => ({ body: new URLSearchParams({ prompt: 'hi', extra0: 'x'.repeat(1025) }) })],
      ['JSON', () => json(JSON.stringify({ prompt: 'hi', extra0: 'x'.repeat(1025) }))],
      ['JSON, not text', () => json(JSON.stringify({ prompt: 'hi', extra0: { a: ['x'.repeat(1020)] } }))],
    ])('a field other than prompt over 1 KiB, %s: 413', async (_, request) => {
      await refused(() => send('POST', '/chat/', request()), 413, /extra0 is larger than 1024 bytes/);
    });

    it('accepts a few small fields besides the prompt (a named button), and a preamble within the limit', async () => {
      const body = form({ prompt: 'é'.repeat(MAX_PROMPT_CHARS), send: 'Send', ...fields(14, 1024) });
      expect(outcome(await send('POST', '/chat/', { body }))).toEqual({ status: 200 });
      expect(await lastPrompt()).toBe('é'.repeat(MAX_PROMPT_CHARS));
      const { bytes, type } = await withPreamble(20_000);
      expect(outcome(await send('POST', '/chat/', chunked(bytes, type)))).toEqual({ status: 200 });
      expect(await lastPrompt()).toBe('hi');
    });
  });

  describe('bodies a route does not take', () => {
    let id: string;
    beforeAll(async () => {
      id = await createConversation('target');
    });

    const routes: [string, string, () => string][] = [
      ['POST /chat/', 'POST', () => '/chat/'],
      ['POST /api/conversations', 'POST', () => '/api/conversations'],
      ['PATCH /api/conversations/:id', 'PATCH', () => `/api/conversations/${id}`],
      ['POST /api/conversations/:id/messages', 'POST', () => `/api/conversations/${id}/messages`],
      ['POST /api/conversations/:id/regenerate', 'POST', () => `/api/conversations/${id}/regenerate`],
      ['POST /api/chat', 'POST', () => '/api/chat'],
    ];
    const bodies: [string, () => RequestInit][] = [
      ['text/plain', () => ({ body: '{"prompt":"hi","title":"t"}', headers: { 'content-type': 'text/plain' } })],
      ['XML', () => ({ body: '<prompt>hi</prompt>', headers: { 'content-type': 'application/xml' } })],
      ['no content type', () => ({ body: new TextEncoder().encode('prompt=hi') })],
    ];
    const cases = routes.flatMap(([route, method, path]) => bodies.map(([kind, body]) => [route, kind, method, path, body] as const));

    it.each(cases)('%s with a %s body: 415', async (_route, _kind, method, path, body) => {
      await refused(() => send(method, path(), body()), 415, /Unsupported content type/);
    });

    it.each(routes.filter(([route]) => route !== 'POST /chat/'))('%s with a multipart body: 415', async (_route, method, path) => {
      await refused(() => send(method, path(), { body: form({ prompt: 'hi', title: 't' }) }), 415, /Unsupported content type/);
    });

    it.each(routes.filter(([route]) => !route.endsWith('/regenerate')))('%s with a JSON array: 400', async (_route, method, path) => {
      await refused(() => send(method, path(), json('[{"prompt":"hi","title":"t"}]')), 400, /body must be a JSON object/);
    });

    it('still creates an untitled conversation from an empty POST, whatever its content type', async () => {
      for (const init of [{}, { body: '', headers: { 'content-type': 'text/plain' } }, json('{}')]) {
        const created = await send('POST', '/api/conversations', init);
        expect(outcome(created)).toEqual({ status: 201 });
        expect(parsed(created.text)).toMatchObject({ title: null });
      }
    });
  });

  it('takes a conversation id in upper case on every route', async () => {
    const id = await createConversation('shouting');
    const upper = id.toUpperCase();
    expect(upper).not.toBe(id);
    const got = await send('GET', `/api/conversations/${upper}`);
    expect(outcome(got)).toEqual({ status: 200 });
    expect(parsed(got.text)).toMatchObject({ id, title: 'shouting' });
    expect(outcome(await send('PATCH', `/api/conversations/${upper}`, json('{"title":"quiet"}')))).toEqual({ status: 200 });
    expect(outcome(await send('POST', `/api/conversations/${upper}/messages`, json('{"prompt":"hi"}')))).toEqual({ status: 200 });
    expect(outcome(await send('POST', `/api/conversations/${upper}/regenerate`))).toEqual({ status: 200 });
    const messages = await send('GET', `/api/conversations/${upper}/messages`);
    expect(outcome(messages)).toEqual({ status: 200 });
    expect((parsed(messages.text) as { items: { conversationId: string }[] }).items).toEqual([
      expect.objectContaining({ conversationId: id }),
      expect.objectContaining({ conversationId: id }),
    ]);
    expect(parsed((await send('GET', `/api/conversations/${id}`)).text)).toMatchObject({ title: 'quiet' });
    expect(outcome(await send('DELETE', `/api/conversations/${upper}`))).toEqual({ status: 204 });
    expect((await send('GET', `/api/conversations/${id}`)).status).toBe(404);
  });

  it('refuses a message id past any id as the page boundary', async () => {
    const id = await createConversation('paging');
    await refused(() => send('GET', `/api/conversations/${id}/messages?before=99999999999999999999`), 400, /before must not be greater than 2147483647/);
    // The largest id is a number the database takes: no message of this conversation, not a failed query.
    await refused(() => send('GET', `/api/conversations/${id}/messages?before=2147483647`), 404, /Message 2147483647 not found in conversation/);
  });

  it('refuses an Origin with this host and port but the other scheme', async () => {
    const origin = running.url.replace(/^http:/, 'https:');
    await refused(() => send('POST', '/chat/', { body: new URLSearchParams({ prompt: 'hi' }), headers: { origin } }), 403, /Origin https:.* is not this server/);
    await refused(() => send('POST', '/api/conversations', { ...json('{}'), headers: { 'content-type': 'application/json', origin } }), 403, /Cross-site/);
  });
});

describe('the same-origin check behind a proxy (TRUST_PROXY) takes the scheme from X-Forwarded-Proto', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: TestDatabase;
  let running: RunningApp;

  beforeAll(async () => {
    dir = tempDir();
    db = await testDatabase(dir.path, 'proxy');
    running = await startApp({ DATABASE_URL: db.url, TRUST_PROXY: 'loopback' });
  });

  afterAll(async () => {
    await running.close();
    await db.drop();
    dir.remove();
  });

  it.each<[string, number, Record<string, string>]>([
    ['https Origin, X-Forwarded-Proto: https', 201, { 'x-forwarded-proto': 'https' }],
    ['https Origin, no X-Forwarded-Proto', 403, {}],
    ['http Origin, X-Forwarded-Proto: https', 403, { 'x-forwarded-proto': 'https', 'x-origin-scheme': 'http' }],
    ['http Origin, X-Forwarded-Proto: http', 201, { 'x-forwarded-proto': 'http', 'x-origin-scheme': 'http' }],
  ])('%s: %i', async (_, status, headers) => {
    const { 'x-origin-scheme': scheme = 'https', ...forwarded } = headers;
    const origin = running.url.replace(/^http:/, `${scheme}:`);
    const response = await fetch(`${running.url}/api/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, ...forwarded },
      body: '{}',
    });
    const text = await response.text();
    expect({ status: response.status, text: response.status === status ? '' : text }).toEqual({ status, text: '' });
  });
});
