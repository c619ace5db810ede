import { RedisService } from '../src/redis/redis.service.js';
import type { RunningApp } from './support/app-harness.js';
import type { AppProcess } from './support/built-app.js';
import { waitForMessages } from './support/database.js';
import { type Env, useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';
import { describeWithRedis, RedisServer } from './support/redis-server.js';

/** What instances reach: an in-process app or dist/main.js in a process of its own. */
type Instance = Pick<RunningApp | AppProcess, 'url'>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each test is its own client, by address (TRUST_PROXY=loopback, X-Forwarded-For): the Redis
 * server lives for the whole file, and so do the counts in it.
 */
let lastClient = 0;
const newClient = () => `203.0.113.${++lastClient}`;

async function call(app: Instance, client: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { 'x-forwarded-for': client, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const ask = (app: Instance, client: string, prompt: string) => call(app, client, 'POST', '/chat/', { prompt });

/** A POST whose answer is still streaming once this resolves: its stream slot is held. */
async function startSlowAnswer(app: Instance, client: string, prompt: string) {
  const response = await fetch(`${app.url}/chat/`, {
    method: 'POST',
    headers: { 'x-forwarded-for': client, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('"role":"model"')) text += decoder.decode((await reader.read()).value, { stream: true });
  return {
    /** The rest of the answer: the last line's text. */
    async finish(): Promise<string> {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
      return (JSON.parse(text.trim().split('\n').at(-1)!) as { content: string }).content;
    },
  };
}

/** A 429 of the one JSON shape, with one plain Retry-After and no X-RateLimit headers. */
function expectTooMany(response: Awaited<ReturnType<typeof call>>, message: RegExp) {
  expect(response.status).toBe(429);
  expect(response.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(message) });
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expect([...response.headers.keys()].filter((name) => /^x-ratelimit/i.test(name))).toEqual([]);
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await sleep(200)) {
    if (Date.now() > deadline) throw new Error(`never within ${timeoutMs} ms: ${what}`);
  }
}

/** Everything a built app logged at start-up: its last line, once it is there. */
async function startUpLog(app: AppProcess): Promise<string> {
  await eventually(() => /Chat app ready/.test(app.log()), 'the start-up log', 5_000);
  return app.log();
}

const redisReady = (app: RunningApp) => eventually(() => app.app.get(RedisService).ready, 'connected to Redis', 10_000);

describeWithRedis()('rate and stream limits shared through Redis (REDIS_URL), two instances', () => {
  let redis: RedisServer;
  beforeAll(async () => (redis = await RedisServer.start()));
  afterAll(() => redis.stop());

  const fx = useE2eFixture({ autoStart: false, upstream: { echo: true } });

  /**
   * Env for an instance beside the fixture's, on a database of its own: the limits care only
   * about Redis, SQLite takes one instance per file, and in-process apps share the module-level
   * instance id, so two on one PostgreSQL database would wait on each other's instance lock.
   */
  const besideEnv = async (name: string): Promise<Env> => ({ ...fx.env, DATABASE_URL: (await fx.database(name)).url });

  /** Two in-process instances on one Redis, connected to it. */
  async function twoInstances(env: Env): Promise<[RunningApp, RunningApp]> {
    const shared = { REDIS_URL: redis.url, TRUST_PROXY: 'loopback', ...env };
    const a = await fx.start(shared);
    const b = await fx.startAnother({ ...(await besideEnv('b')), ...shared });
    await Promise.all([a, b].map(redisReady));
    return [a, b];
  }

  it('counts RATE_LIMIT_REQUESTS_PER_MINUTE across instances: requests alternating between them get 429 past the limit, on both', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_REQUESTS_PER_MINUTE: '6' });
    const client = newClient();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(i % 2 ? b : a, client, 'GET', i % 3 ? '/api/info' : '/no/such/path')).status);
    expect(statuses).toEqual([404, 200, 200, 404, 200, 200]);
    expectTooMany(await call(a, client, 'GET', '/api/info'), /Too many requests: at most 6 a minute/);
    expectTooMany(await call(b, client, 'GET', '/api/info'), /Too many requests: at most 6 a minute/);
    // Another client has its own count, on both.
    expect([(await call(a, newClient(), 'GET', '/api/info')).status, (await call(b, newClient(), 'GET', '/api/info')).status]).toEqual([200, 200]);
  });

  it('counts RATE_LIMIT_ANSWERS_PER_MINUTE across instances; an answer refused before the model gives its reservation back to both', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_ANSWERS_PER_MINUTE: '3' });
    const client = newClient();
    const unknown = await call(b, client, 'POST', '/api/conversations/3f2b8c1e-7d4a-4e9b-8a6f-1c2d3e4f5a6b/messages', { prompt: 'nowhere' });
    expect(unknown.status).toBe(404);
    expect([(await ask(a, client, 'one')).status, (await ask(b, client, 'two')).status, (await ask(a, client, 'three')).status]).toEqual([200, 200, 200]);
    expectTooMany(await ask(b, client, 'four'), /Too many answers: at most 3 a minute/);
    expectTooMany(await ask(a, client, 'five'), /Too many answers: at most 3 a minute/);
    expect(fx.fake.requests.map((r) => r.body.messages.at(-1)!.content)).toEqual(['one', 'two', 'three']);
    // Reading is not answering.
    expect((await call(b, client, 'GET', '/chat/')).status).toBe(200);
  });

  it('holds MAX_STREAMS_PER_CLIENT across instances: an answer streaming on one makes a second on the other a 429 until it ends', async () => {
    const [a, b] = await twoInstances({ MAX_STREAMS_PER_CLIENT: '1' });
    const client = newClient();
    fx.fake.enqueue({ tokens: wordTokens(40), tokenDelayMs: 10 });
    const slow = await startSlowAnswer(a, client, 'slow');
    expectTooMany(await ask(b, client, 'too soon'), /Too many answers streaming at once: at most 1 per client/);
    expect((await ask(b, newClient(), 'another client')).status).toBe(200);
    expect(await slow.finish()).toBe(wordTokens(40).join(''));
    expect((await ask(b, client, 'now')).status).toBe(200);
    expect(fx.fake.requests.map((r) => r.body.messages.at(-1)!.content)).not.toContain('too soon');
  });

  it('frees the stream slots of a killed instance within the lease (15 s)', async () => {
    const shared = { REDIS_URL: redis.url, TRUST_PROXY: 'loopback', MAX_STREAMS_PER_CLIENT: '1' };
    const killed = await fx.startBuilt({ ...(await besideEnv('killed')), ...shared });
    expect(await startUpLog(killed)).toMatch(/Limits: rate limits and stream slots in Redis \(REDIS_URL\)/);
    const b = await fx.start(shared);
    await redisReady(b);
    const client = newClient();
    fx.fake.enqueue({ tokens: wordTokens(2000), tokenDelayMs: 10 });
    await startSlowAnswer(killed, client, 'cut short');
    killed.child.kill('SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    // Its connections are gone, its slot is not: nothing but the lease tells a crash from a slow answer.
    expectTooMany(await ask(b, client, 'right after'), /streaming at once/);
    await eventually(async () => (await ask(b, client, 'after the lease')).status === 200, 'the slot freed', 25_000);
  }, 60_000);

  it('keeps answering while Redis is down, counting per instance, and shares the limits again once it is back', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_REQUESTS_PER_MINUTE: '4', MAX_STREAMS_PER_CLIENT: '1' });
    const streaming = newClient();
    fx.fake.enqueue({ tokens: wordTokens(60), tokenDelayMs: 10 });
    const slow = await startSlowAnswer(a, streaming, 'through the outage');

    await redis.kill();
    // The answer runs on, is stored, and gives its slot back without Redis.
    expect(await slow.finish()).toBe(wordTokens(60).join(''));
    const db = fx.db;
    await waitForMessages(db, (rows) => rows.some((r) => r.role === 'model' && r.status === 'complete' && r.content === wordTokens(60).join('')));

    // Meanwhile each instance counts on its own: the limit holds on each, and nothing fails.
    const apart = newClient();
    const statuses: number[] = [];
    for (const app of [a, a, a, a, a, b, b, b, b, b]) statuses.push((await call(app, apart, 'GET', '/api/info')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 200, 200, 200, 200, 429]);
    const slots = newClient();
    fx.fake.enqueue({ tokens: wordTokens(40), tokenDelayMs: 10 });
    const onA = await startSlowAnswer(a, slots, 'a alone');
    expectTooMany(await ask(a, slots, 'a again'), /streaming at once/);
    expect((await ask(b, slots, 'b counts its own')).status).toBe(200);
    await onA.finish();

    await redis.restart();
    await Promise.all([a, b].map(redisReady));
    const together = newClient();
    const shared: number[] = [];
    for (const app of [a, b, a, b, a, b]) shared.push((await call(app, together, 'GET', '/api/info')).status);
    expect(shared).toEqual([200, 200, 200, 200, 429, 429]);
    const streams = newClient();
    fx.fake.enqueue({ tokens: wordTokens(40), tokenDelayMs: 10 });
    const again = await startSlowAnswer(a, streams, 'shared again');
    expectTooMany(await ask(b, streams, 'not on b either'), /streaming at once/);
    await again.finish();
  });
});

describe('the start-up log: where the limits are kept', () => {
  const fx = useE2eFixture({ autoStart: false });

  it('says the limits are in memory without REDIS_URL; on PostgreSQL, warns that they, resume and stop are per instance', async () => {
    const log = await startUpLog(await fx.startBuilt({ REDIS_URL: undefined }));
    expect(log).toMatch(/Limits: rate limits and stream slots in memory, per instance/);
    const warning = /PostgreSQL without REDIS_URL: resume and stop reach only answers running on the instance .* Set REDIS_URL to share them\./s;
    if (fx.db.kind === 'postgres') expect(log).toMatch(warning);
    else expect(log).not.toMatch(warning);
  });
});
