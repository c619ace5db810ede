import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import { tempDir } from './support/app-harness.js';
import { type AppProcess, startBuiltApp } from './support/built-app.js';
import { type TestDatabase, testDatabase, waitForMessages } from './support/database.js';
import { FakeOpenAi, wordTokens } from './support/fake-openai.js';
import { describeWithRedis, RedisServer } from './support/redis-server.js';
import { type DeltaEvent, ndjson } from './support/streams.js';

const TOKENS = wordTokens(40);

/**
 * Two processes of dist/main.js on one PostgreSQL database and one Redis (this file runs in the
 * postgres project only): an answer running on one instance is resumed and stopped through the
 * other, as a load balancer sends a reconnecting client anywhere.
 */
describeWithRedis()('answers across two instances (PostgreSQL + Redis)', () => {
  let fake: FakeOpenAi;
  let dir: ReturnType<typeof tempDir>;
  let db: TestDatabase;
  let redis: RedisServer;
  let a: AppProcess;
  let b: AppProcess;

  // One pair of instances for the file (starting two processes is the slow part); each test has its own conversation, Redis going away comes last.
  beforeAll(async () => {
    fake = await FakeOpenAi.start({ tokens: TOKENS, tokenDelayMs: 25 });
    dir = tempDir();
    db = await testDatabase(dir.path);
    redis = await RedisServer.start();
    const env = { OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'fake-model', DATABASE_URL: db.url, UPSTREAM_RETRIES: '0', REDIS_URL: redis.url };
    [a, b] = await Promise.all([startBuiltApp(env), startBuiltApp(env)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis.stop();
    await fake.close();
    await db.drop();
    dir.remove();
  });

  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const deltaText = (events: DeltaEvent[]) => events.map((e) => (e.type === 'delta' ? e.text : '')).join('');

  /** Starts an answer on `app` and reads until its first delta; the response keeps streaming. */
  async function answerOn(app: AppProcess) {
    const { id } = (await (await fetch(`${app.url}/api/conversations`, json({}))).json()) as { id: string };
    const response = await fetch(`${app.url}/api/conversations/${id}/messages`, json({ prompt: 'across' }));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"type":"delta"')) text += decoder.decode((await reader.read()).value, { stream: true });
    const rest = async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return ndjson<DeltaEvent>(text);
        text += decoder.decode(value, { stream: true });
      }
    };
    return { id, rest };
  }

  it('resumes on the other instance: the text so far, then live, to the end', async () => {
    const { id, rest } = await answerOn(a);
    const resumed = await fetch(`${b.url}/api/conversations/${id}/stream`);
    expect(resumed.status).toBe(200);
    const events = ndjson<DeltaEvent>(await resumed.text());
    expect(events[0]).toMatchObject({ type: 'start', conversationId: id, userMessage: { content: 'across' } });
    expect(deltaText(events)).toBe(TOKENS.join(''));
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });
    expect(deltaText(await rest())).toBe(TOKENS.join(''));
    // Nothing runs any more, on either.
    expect((await fetch(`${b.url}/api/conversations/${id}/stream`)).status).toBe(204);
    expect((await fetch(`${a.url}/api/conversations/${id}/stream`)).status).toBe(204);
  });

  it('gives two readers on the other instance, attaching at different moments, the whole text each', async () => {
    const { id, rest } = await answerOn(a);
    const first = fetch(`${b.url}/api/conversations/${id}/stream`).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 300)); // more text has arrived: the second gets a later snapshot
    const second = fetch(`${b.url}/api/conversations/${id}/stream`).then((r) => r.text());
    for (const text of await Promise.all([first, second])) {
      const events = ndjson<DeltaEvent>(text);
      expect(deltaText(events)).toBe(TOKENS.join(''));
      expect(events.at(-1)).toMatchObject({ type: 'done' });
    }
    await rest();
  });

  it('resumes an AI SDK chat on the other instance through the ai package', async () => {
    const chatId = 'across-instances';
    const started = await fetch(`${a.url}/api/chat`, json({ id: chatId, messages: [{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }));
    const reader = started.body!.getReader();
    await reader.read();
    const stream = await new DefaultChatTransport<UIMessage>({ api: `${b.url}/api/chat` }).reconnectToStream({ chatId });
    expect(stream).not.toBeNull();
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: stream! })) last = message;
    expect(last?.parts.map((p) => (p.type === 'text' ? p.text : '')).join('')).toBe(TOKENS.join(''));
    await reader.cancel();
  });

  it('stops from the other instance: the upstream aborted, the text so far stored interrupted, the first reader told', async () => {
    const { id, rest } = await answerOn(a);
    const stop = await fetch(`${b.url}/api/conversations/${id}/stop`, { method: 'POST' });
    expect(stop.status).toBe(204);
    const rows = await db.readMessages();
    expect(rows.at(-1)!.status).toBe('interrupted');
    expect(rows.at(-1)!.content.length).toBeLessThan(TOKENS.join('').length);
    const upstream = fake.requests.at(-1)!;
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    expect((await rest()).at(-1)).toMatchObject({ type: 'error', stopped: true });
  });

  it('gives 204 on the other instance when nothing runs, and for another conversation', async () => {
    const { id, rest } = await answerOn(a);
    const { id: other } = (await (await fetch(`${b.url}/api/conversations`, json({}))).json()) as { id: string };
    expect((await fetch(`${b.url}/api/conversations/${other}/stream`)).status).toBe(204);
    await rest();
    await waitForMessages(db, (r) => r.at(-1)?.status === 'complete');
    expect((await fetch(`${b.url}/api/conversations/${id}/stream`)).status).toBe(204);
  });

  it('with Redis gone mid-answer: the answer streams on to its reader and is stored; resuming elsewhere is a clear 503; it works again once Redis is back', async () => {
    const { id, rest } = await answerOn(a);
    await redis.kill();
    const refused = await fetch(`${b.url}/api/conversations/${id}/stream`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { message: string }).message).toMatch(/Redis/);
    expect(deltaText(await rest())).toBe(TOKENS.join(''));
    expect((await db.readMessages()).at(-1)!.status).toBe('complete');

    await redis.restart();
    // Both reconnect by themselves; once they have, an answer on one is reached from the other.
    let resumed: Response | undefined;
    for (let attempt = 0; attempt < 15 && resumed?.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await answerOn(a);
      resumed = await fetch(`${b.url}/api/conversations/${again.id}/stream`);
      if (resumed.status !== 200) await again.rest();
    }
    expect(resumed?.status).toBe(200);
    expect(deltaText(ndjson<DeltaEvent>(await resumed!.text()))).toBe(TOKENS.join(''));
  });
});
