import Database from 'better-sqlite3';
import pg from 'pg';
import { type RunningApp, parseNdjson, startApp, tempDir } from './support/app-harness.js';
import { type TestDatabase, testDatabase } from './support/database.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { type ConversationJson, type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

/**
 * A lone surrogate (a JSON `\ud800` escape) has no UTF-8 form: stored, it became U+FFFD or raw
 * surrogate bytes while the server echoed the escape; PostgreSQL refuses U+0000 (a 500 for a
 * title). Both become U+FFFD everywhere, from the start.
 */
describe('text is stored exactly as it is echoed: lone surrogates and U+0000 become U+FFFD', () => {
  let fake: FakeOpenAi;
  let dir: ReturnType<typeof tempDir>;
  let running: RunningApp;
  let db: TestDatabase;

  beforeAll(async () => {
    fake = await FakeOpenAi.start({ tokens: ['ok'] });
    dir = tempDir();
    db = await testDatabase(dir.path);
    // One model line per chunk, so every chunk's text is seen on the wire.
    running = await startApp({ OPENAI_BASE_URL: fake.baseURL, DATABASE_URL: db.url, CHAT_DEBOUNCE_MS: '0' });
  });

  afterAll(async () => {
    await running.close();
    await fake.close();
    await db.drop();
    dir.remove();
  });

  const post = (path: string, body: string | URLSearchParams, method = 'POST') =>
    fetch(`${running.url}${path}`, {
      method,
      body,
      headers: typeof body === 'string' ? { 'content-type': 'application/json' } : {},
    });
  const getJson = async <T>(path: string) => (await (await fetch(`${running.url}${path}`)).json()) as T;

  /** The stored bytes of one column, as hex, read by a second client of the database. */
  async function storedHex(table: 'messages' | 'conversations', column: 'content' | 'title', id: number | string): Promise<string> {
    if (db.kind === 'sqlite') {
      const file = new Database(db.url, { readonly: true });
      try {
        const row = file.prepare(`SELECT hex(CAST(${column} AS BLOB)) AS hex FROM ${table} WHERE id = ?`).get(id) as { hex: string };
        return row.hex;
      } finally {
        file.close();
      }
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ hex: string }>(
        `SELECT upper(encode(convert_to(${column}, 'UTF8'), 'hex')) AS hex FROM ${table} WHERE id = $1`,
        [id],
      );
      return rows[0].hex;
    } finally {
      await client.end();
    }
  }
  const utf8Hex = (text: string) => Buffer.from(text, 'utf8').toString('hex').toUpperCase();

  /** The newest stored message: its text as read back, and its bytes, which must be `expected` in UTF-8. */
  async function expectStored(role: 'user' | 'model', expected: string): Promise<void> {
    const row = (await db.readMessages()).filter((r) => r.role === role).at(-1)!;
    expect(row.content).toBe(expected);
    expect(await storedHex('messages', 'content', row.id)).toBe(utf8Hex(expected));
  }

  it('a conversation title, created and renamed', async () => {
    const created = await post('/api/conversations', '{"title":"a\\ud800b"}');
    expect(created.status).toBe(201);
    const conversation = (await created.json()) as ConversationJson;
    expect(conversation.title).toBe('a\ufffdb');
    expect((await getJson<ConversationJson>(`/api/conversations/${conversation.id}`)).title).toBe('a\ufffdb');
    expect(await storedHex('conversations', 'title', conversation.id)).toBe(utf8Hex('a\ufffdb'));

    const renamed = await post(`/api/conversations/${conversation.id}`, '{"title":"c\\udc00d"}', 'PATCH');
    expect(renamed.status).toBe(200);
    expect(((await renamed.json()) as ConversationJson).title).toBe('c\ufffdd');
    expect((await getJson<ConversationJson>(`/api/conversations/${conversation.id}`)).title).toBe('c\ufffdd');
    expect(await storedHex('conversations', 'title', conversation.id)).toBe(utf8Hex('c\ufffdd'));
  });

  it('a title with U+0000', async () => {
    const created = await post('/api/conversations', '{"title":"n\\u0000ul"}');
    expect(created.status).toBe(201);
    const conversation = (await created.json()) as ConversationJson;
    expect(conversation.title).toBe('n\ufffdul');
    expect((await getJson<ConversationJson>(`/api/conversations/${conversation.id}`)).title).toBe('n\ufffdul');
    expect(await storedHex('conversations', 'title', conversation.id)).toBe(utf8Hex('n\ufffdul'));
  });

  it.each<[string, string | URLSearchParams, string | undefined]>([
    ['JSON', '{"prompt":"p\\ud800q"}', 'p\ufffdq'],
    ['JSON, with U+0000', '{"prompt":"p\\u0000q"}', 'p\ufffdq'],
    // A urlencoded body cannot carry a lone surrogate (its bytes are UTF-8); whatever it decodes to, echo and storage agree.
    ['urlencoded', new URLSearchParams('prompt=p%ED%A0%80q'), undefined],
  ])('a prompt to the seed route as %s: echoed, read back, stored and sent to the model alike', async (_, body, expected) => {
    const response = await post('/chat/', body);
    expect(response.status).toBe(200);
    const echoed = parseNdjson(await response.text())[0];
    expect(echoed.role).toBe('user');
    if (expected !== undefined) expect(echoed.content).toBe(expected);
    expect(echoed.content.isWellFormed()).toBe(true);
    const history = parseNdjson(await (await fetch(`${running.url}/chat/`)).text()).filter((line) => line.role === 'user');
    expect(history.at(-1)?.content).toBe(echoed.content);
    await expectStored('user', echoed.content);
    expect(fake.requests.at(-1)?.body.messages.at(-1)).toEqual({ role: 'user', content: echoed.content });
  });

  it('a prompt to the REST route, which also titles the conversation', async () => {
    const { id } = (await (await post('/api/conversations', '{}')).json()) as ConversationJson;
    const response = await post(`/api/conversations/${id}/messages`, '{"prompt":"r\\ud800s"}');
    expect(response.status).toBe(200);
    const start = ndjson<DeltaEvent>(await response.text())[0];
    expect(start).toMatchObject({ type: 'start', userMessage: { content: 'r\ufffds' } });
    const stored = (await getJson<{ items: MessageJson[] }>(`/api/conversations/${id}/messages`)).items;
    expect(stored[0].content).toBe('r\ufffds');
    await expectStored('user', 'r\ufffds');
    expect((await getJson<ConversationJson>(`/api/conversations/${id}`)).title).toBe('r\ufffds');
    expect(fake.requests.at(-1)?.body.messages.at(-1)?.content).toBe('r\ufffds');
  });

  it('a prompt to /api/chat', async () => {
    const body = JSON.stringify({ id: 'surrogates', messages: [{ id: 'm', role: 'user', parts: [{ type: 'text', text: 't\udfffu' }] }] });
    expect(body).toContain('\\udfff');
    const response = await post('/api/chat', body);
    expect(response.status).toBe(200);
    await response.text();
    await expectStored('user', 't\ufffdu');
    expect(fake.requests.at(-1)?.body.messages.at(-1)?.content).toBe('t\ufffdu');
  });

  describe('model text', () => {
    // The fake sends each token as a JSON string, so lone halves go out as \ud800-style escapes.
    const tokens = ['a\ud800', 'b', 'x\ud83d', '\ude00y', '\udc00z', 'n\0', 'end\ud83d'];
    const expected = 'a\ufffdbx😀y\ufffdzn\ufffdend\ufffd';

    it('in the delta stream: a lone surrogate becomes U+FFFD, a pair split across two chunks arrives whole', async () => {
      const { id } = (await (await post('/api/conversations', '{}')).json()) as ConversationJson;
      fake.enqueue({ tokens });
      const response = await post(`/api/conversations/${id}/messages`, '{"prompt":"hi"}');
      const deltas = ndjson<DeltaEvent>(await response.text())
        .filter((event) => event.type === 'delta')
        .map((event) => event.text);
      expect(deltas.filter((delta) => !delta.isWellFormed())).toEqual([]);
      expect(deltas.join('')).toBe(expected);
      expect((await getJson<{ items: MessageJson[] }>(`/api/conversations/${id}/messages`)).items[1].content).toBe(expected);
      await expectStored('model', expected);
    });

    it('in the seed stream', async () => {
      fake.enqueue({ tokens });
      const lines = parseNdjson(await (await post('/chat/', '{"prompt":"hi"}')).text()).filter((line) => line.role === 'model');
      expect(lines.filter((line) => !line.content.isWellFormed())).toEqual([]);
      expect(lines.at(-1)?.content).toBe(expected);
      await expectStored('model', expected);
    });

    it('in the AI SDK stream', async () => {
      fake.enqueue({ tokens });
      const body = JSON.stringify({ id: 'model-text', messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] });
      const events = (await (await post('/api/chat', body)).text())
        .split('\n\n')
        .filter((event) => event.startsWith('data: {'))
        .map((event) => JSON.parse(event.slice('data: '.length)) as { type: string; delta?: string });
      const deltas = events.filter((event) => event.type === 'text-delta').map((event) => event.delta!);
      expect(deltas.filter((delta) => !delta.isWellFormed())).toEqual([]);
      expect(deltas.join('')).toBe(expected);
      await expectStored('model', expected);
    });
  });
});
