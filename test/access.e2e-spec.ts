import { request as httpRequest } from 'node:http';
import { parseNdjson } from './support/app-harness.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

const SECRET = 'a-session-secret-of-at-least-32-characters!!';
const TOKEN_A = 'token-a-0123456789abcdef';
const TOKEN_B = 'token-b-0123456789abcdef';

/** A client: a cookie jar of one cookie, or a bearer token. */
interface Client {
  headers(): Record<string, string>;
  remember(response: Response): void;
}

function cookieClient(): Client & { cookie?: string } {
  const client: Client & { cookie?: string } = {
    headers: (): Record<string, string> => (client.cookie ? { cookie: client.cookie } : {}),
    remember: (response) => {
      const set = response.headers.get('set-cookie');
      if (set) client.cookie = set.split(';')[0];
    },
  };
  return client;
}

function bearerClient(token: string): Client {
  return { headers: () => ({ authorization: `Bearer ${token}` }), remember: () => undefined };
}

/** A 429's wait, once: a plain number of seconds within the minute the limits count over. */
function expectOneRetryAfter(headers: Headers) {
  // fetch joins repeated headers with ", ", so a second Retry-After would not match.
  expect(headers.get('retry-after')).toMatch(/^\d+$/);
  expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(headers.get('retry-after'))).toBeLessThanOrEqual(61);
}

/** No headers per named limit (`Retry-After-answers`, `X-RateLimit-Limit-answers`, …), nor X-RateLimit-* at all. */
function expectNoPerLimitHeaders(headers: Headers) {
  expect([...headers.keys()].filter((name) => /^retry-after-|^x-ratelimit/i.test(name))).toEqual([]);
}

describe('access: owners, tokens, limits and hosts', () => {
  const e2e = useE2eFixture({ upstream: { echo: true }, env: { OPENAI_MODEL: 'fake-model' }, autoStart: false });

  const start = (env: Record<string, string>) => e2e.start(env);

  async function call(client: Client, method: string, path: string, body?: unknown) {
    const response = await fetch(`${e2e.url}${path}`, {
      method,
      headers: { ...client.headers(), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    client.remember(response);
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  async function ownerWithConversation(client: Client, prompt: string) {
    const created = await call(client, 'POST', '/api/conversations', { title: prompt });
    expect(created.status).toBe(201);
    const id = created.json().id as string;
    expect((await call(client, 'POST', `/api/conversations/${id}/messages`, { prompt })).status).toBe(200);
    return id;
  }

  /** `intruder` gets 404 (never 403, never data) for everything about `victim`'s conversation, which stays as it was. */
  async function expectIsolated(victim: Client, intruder: Client, victimPrompt: string) {
    const id = await ownerWithConversation(victim, victimPrompt);
    const before = await call(victim, 'GET', `/api/conversations/${id}/messages`);

    const attempts = [
      await call(intruder, 'GET', `/api/conversations/${id}`),
      await call(intruder, 'GET', `/api/conversations/${id}/messages`),
      await call(intruder, 'POST', `/api/conversations/${id}/messages`, { prompt: 'let me in' }),
      await call(intruder, 'POST', `/api/conversations/${id}/regenerate`),
      await call(intruder, 'PATCH', `/api/conversations/${id}`, { title: 'mine now' }),
      await call(intruder, 'DELETE', `/api/conversations/${id}`),
    ];
    for (const attempt of attempts) {
      expect(attempt.status).toBe(404);
      expect(attempt.text).not.toContain(victimPrompt);
    }
    // An AI SDK chat id is a name in the caller's own space: the victim's id names a new
    // conversation of the intruder's, which sees none of the victim's history.
    const viaSdk = await call(intruder, 'POST', '/api/chat', { id, messages: [{ role: 'user', parts: [{ type: 'text', text: 'via ai sdk' }] }] });
    expect(viaSdk.status).toBe(200);
    expect(viaSdk.text).not.toContain(victimPrompt);
    expect(e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual(['via ai sdk']);
    const intruderList = await call(intruder, 'GET', '/api/conversations');
    expect(intruderList.status).toBe(200);
    expect(intruderList.text).not.toContain(id);
    expect(intruderList.text).not.toContain(victimPrompt);

    // The victim's conversation is untouched, and listed for the victim.
    expect((await call(victim, 'GET', `/api/conversations/${id}`)).json()).toMatchObject({ id, title: victimPrompt });
    expect((await call(victim, 'GET', `/api/conversations/${id}/messages`)).text).toBe(before.text);
    expect((await call(victim, 'GET', '/api/conversations')).text).toContain(id);
    expect(e2e.fake.requests.map((r) => r.body.messages.at(-1)!.content)).not.toContain('let me in');
    return id;
  }

  describe('AUTH_MODE=cookie', () => {
    it('gives each browser its own signed, HttpOnly, SameSite=Lax owner cookie, on the first response that lacks one', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET });
      const page = await fetch(`${e2e.url}/`);
      const cookie = page.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^chat_session=[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
      const again = await fetch(`${e2e.url}/api/info`, { headers: { cookie: cookie.split(';')[0] } });
      expect(again.headers.get('set-cookie')).toBeNull();
    });

    it('keeps two browsers apart: by id, in lists, on the seed endpoints and for AI SDK chat ids', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET });
      const alice = cookieClient();
      const bob = cookieClient();
      await call(alice, 'GET', '/api/info');
      await call(bob, 'GET', '/api/info');
      expect(alice.cookie).not.toBe(bob.cookie);
      await expectIsolated(alice, bob, 'alice private plan');

      // The seed endpoints: one default conversation per owner.
      expect((await call(alice, 'POST', '/chat/', { prompt: 'alice seed' })).status).toBe(200);
      expect((await call(bob, 'GET', '/chat/')).text).toBe('');
      expect((await call(bob, 'POST', '/chat/', { prompt: 'bob seed' })).status).toBe(200);
      expect(parseNdjson((await call(alice, 'GET', '/chat/')).text).map((m) => m.content)).toEqual(['alice seed', 're: alice seed']);
      expect(parseNdjson((await call(bob, 'GET', '/chat/')).text).map((m) => m.content)).toEqual(['bob seed', 're: bob seed']);

      // The same AI SDK chat id names a different conversation for each.
      const ask = (client: Client, text: string) =>
        call(client, 'POST', '/api/chat', { id: 'chat-1', messages: [{ role: 'user', parts: [{ type: 'text', text }] }] });
      expect((await ask(alice, 'alice sdk')).status).toBe(200);
      expect((await ask(bob, 'bob sdk')).status).toBe(200);
      expect(e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual(['bob sdk']);
    });

    it('a forged or tampered cookie gets a new, empty owner', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET });
      const alice = cookieClient();
      await ownerWithConversation(alice, 'alice only');
      const [name, value] = alice.cookie!.split('=');
      const [id, signature] = value.split('.');
      const forged = { ...cookieClient(), cookie: `${name}=${id}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}` };
      const list = await fetch(`${e2e.url}/api/conversations`, { headers: { cookie: forged.cookie } });
      expect(list.headers.get('set-cookie')).toMatch(/^chat_session=/);
      expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
    });

    it('lets REST clients use API_TOKENS instead, each token its own owner; a wrong token is a 401', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET, API_TOKENS: `${TOKEN_A},${TOKEN_B}` });
      await expectIsolated(bearerClient(TOKEN_A), bearerClient(TOKEN_B), 'token a secret');
      await expectIsolated(bearerClient(TOKEN_B), cookieClient(), 'token b secret');
      const wrong = await call(bearerClient('not-a-valid-token-at-all'), 'GET', '/api/conversations');
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(wrong.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'The bearer token is not valid' });
    });
  });

  describe('AUTH_MODE=token', () => {
    it('answers 401 without a valid bearer token, on every route but /healthz', async () => {
      await start({ AUTH_MODE: 'token', API_TOKENS: `${TOKEN_A},${TOKEN_B}` });
      const anonymous = cookieClient();
      for (const [method, path, body] of [
        ['GET', '/'],
        ['GET', '/chat/'],
        ['POST', '/chat/', { prompt: 'hi' }],
        ['GET', '/api/conversations'],
        ['POST', '/api/conversations', {}],
        ['GET', '/api/info'],
        ['GET', '/api/docs-json'],
      ] as const) {
        const response = await call(anonymous, method, path, body);
        expect([path, response.status]).toEqual([path, 401]);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(response.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(response.headers.get('set-cookie')).toBeNull();
      }
      expect(e2e.fake.requests).toHaveLength(0);
      expect(await e2e.db.readMessages()).toEqual([]);
      for (const path of ['/healthz', '/healthz/']) {
        const health = await call(anonymous, 'GET', path);
        expect([health.status, health.json()]).toEqual([200, { status: 'ok' }]);
      }
    });

    it('keeps two tokens apart, the seed endpoints included', async () => {
      await start({ AUTH_MODE: 'token', API_TOKENS: `${TOKEN_A},${TOKEN_B}` });
      const a = bearerClient(TOKEN_A);
      const b = bearerClient(TOKEN_B);
      await expectIsolated(a, b, 'only for a');
      expect((await call(a, 'POST', '/chat/', { prompt: 'seed a' })).status).toBe(200);
      expect((await call(b, 'GET', '/chat/')).text).toBe('');
      expect(parseNdjson((await call(a, 'GET', '/chat/')).text).map((m) => m.content)).toEqual(['seed a', 're: seed a']);
    });
  });

  describe('AI SDK chat ids', () => {
    const NIL = '00000000-0000-0000-0000-000000000000';
    const ask = (client: Client, id: string, text: string) =>
      call(client, 'POST', '/api/chat', { id, messages: [{ role: 'user', parts: [{ type: 'text', text }] }] });
    const lastContext = () => e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content);

    it('cannot squat the seed conversation: a nil-UUID chat in cookie mode leaves AUTH_MODE=none its /chat/ on the same database', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET });
      const squatter = cookieClient();
      expect((await ask(squatter, NIL, 'mine now')).status).toBe(200);
      // The squatter keeps its own conversation under that chat id.
      expect((await ask(squatter, NIL, 'still mine')).status).toBe(200);
      expect(lastContext()).toEqual(['mine now', 're: mine now', 'still mine']);
      await e2e.stop();

      await start({ AUTH_MODE: 'none' });
      const local = cookieClient();
      const before = await call(local, 'GET', '/chat/');
      expect([before.status, before.text]).toEqual([200, '']);
      const posted = await call(local, 'POST', '/chat/', { prompt: 'seed works' });
      expect(posted.status).toBe(200);
      expect(lastContext()).toEqual(['seed works']);
      expect(parseNdjson((await call(local, 'GET', '/chat/')).text).map((m) => m.content)).toEqual(['seed works', 're: seed works']);
      // The owner's own default conversation is reachable through /api/chat by its id.
      expect((await ask(local, NIL, 'via sdk')).status).toBe(200);
      expect(lastContext()).toEqual(['seed works', 're: seed works', 'via sdk']);
    });

    it('gives two owners using the same chat id, UUID or not, conversations of their own', async () => {
      await start({ AUTH_MODE: 'token', API_TOKENS: `${TOKEN_A},${TOKEN_B}` });
      const a = bearerClient(TOKEN_A);
      const b = bearerClient(TOKEN_B);
      for (const chatId of ['3f2b8c1e-7d4a-4e9b-8a6f-1c2d3e4f5a6b', NIL, 'chat-1']) {
        expect((await ask(a, chatId, `a in ${chatId}`)).status).toBe(200);
        expect((await ask(b, chatId, `b in ${chatId}`)).status).toBe(200);
        expect(lastContext()).toEqual([`b in ${chatId}`]);
        expect((await ask(a, chatId, `a again in ${chatId}`)).status).toBe(200);
        expect(lastContext()).toEqual([`a in ${chatId}`, `re: a in ${chatId}`, `a again in ${chatId}`]);
      }
      // None of them took the ids they named, and none is another owner's seed conversation.
      const listed = (client: Client) => call(client, 'GET', '/api/conversations').then((r) => (r.json().items as { id: string }[]).map((c) => c.id));
      const ids = [...(await listed(a)), ...(await listed(b))];
      expect(new Set(ids).size).toBe(6);
      expect(ids).not.toContain(NIL);
      expect(ids).not.toContain('3f2b8c1e-7d4a-4e9b-8a6f-1c2d3e4f5a6b');
      expect((await call(a, 'POST', '/chat/', { prompt: 'a seed' })).status).toBe(200);
      expect(lastContext()).toEqual(['a seed']);
    });

    it('reaches a conversation the caller made through the REST API by its UUID', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET });
      const alice = cookieClient();
      const created = await call(alice, 'POST', '/api/conversations', { title: 'rest made' });
      const id = created.json().id as string;
      expect((await ask(alice, id.toUpperCase(), 'into rest conversation')).status).toBe(200);
      const messages = await call(alice, 'GET', `/api/conversations/${id}/messages`);
      expect((messages.json().items as { content: string }[]).map((m) => m.content)).toEqual(['into rest conversation', 're: into rest conversation']);
    });
  });

  describe('limits', () => {
    it('answers 429 with Retry-After past RATE_LIMIT_REQUESTS_PER_MINUTE, per client', async () => {
      await start({ AUTH_MODE: 'token', API_TOKENS: `${TOKEN_A},${TOKEN_B}`, RATE_LIMIT_REQUESTS_PER_MINUTE: '5' });
      const a = bearerClient(TOKEN_A);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(a, 'GET', i % 2 ? '/api/conversations' : '/chat/')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      const refused = await call(a, 'GET', '/api/conversations');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(refused.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/at most 5 a minute/) });
      // Another client is not affected.
      expect((await call(bearerClient(TOKEN_B), 'GET', '/api/conversations')).status).toBe(200);
    });

    it('counts answers separately (RATE_LIMIT_ANSWERS_PER_MINUTE): reading goes on after the answer limit', async () => {
      await start({ RATE_LIMIT_ANSWERS_PER_MINUTE: '2' });
      const local = cookieClient();
      expect((await call(local, 'POST', '/chat/', { prompt: 'one' })).status).toBe(200);
      expect((await call(local, 'POST', '/chat/', { prompt: 'two' })).status).toBe(200);
      const third = await call(local, 'POST', '/chat/', { prompt: 'three' });
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(third.json().message).toMatch(/Too many answers/);
      expect((await call(local, 'GET', '/chat/')).status).toBe(200);
      expect((await e2e.db.readMessages()).map((r) => r.content)).not.toContain('three');
    });

    it('charges an answer only when the model is called: refused requests leave the quota alone', async () => {
      await start({ RATE_LIMIT_ANSWERS_PER_MINUTE: '3', MAX_STREAMS_PER_CLIENT: '1', MAX_PROMPT_CHARS: '50' });
      const local = cookieClient();
      const created = await call(local, 'POST', '/api/conversations', {});
      const fresh = created.json().id as string;
      const refusals = [
        [400, await call(local, 'POST', '/chat/', { prompt: '' })],
        [400, await call(local, 'POST', '/chat/', { prompt: '   ' })],
        [400, await call(local, 'POST', '/chat/', {})],
        [400, await call(local, 'POST', '/api/chat', { id: 'c', messages: [] })],
        [413, await call(local, 'POST', '/chat/', { prompt: 'x'.repeat(51) })],
        [404, await call(local, 'POST', '/api/conversations/3f2b8c1e-7d4a-4e9b-8a6f-1c2d3e4f5a6b/messages', { prompt: 'hi' })],
        [404, await call(local, 'POST', '/api/conversations/3f2b8c1e-7d4a-4e9b-8a6f-1c2d3e4f5a6b/regenerate')],
        [409, await call(local, 'POST', `/api/conversations/${fresh}/regenerate`)],
      ] as const;
      expect(refusals.map(([, r]) => r.status)).toEqual(refusals.map(([status]) => status));
      const unsupported = await fetch(`${e2e.url}/chat/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'prompt=hi' });
      expect(unsupported.status).toBeGreaterThanOrEqual(400);
      expect(unsupported.status).toBeLessThan(500);
      expect(unsupported.status).not.toBe(429);
      await unsupported.text();

      // One answer streams, holding the only stream slot; requests meanwhile get the slot's 429.
      e2e.fake.enqueue({ tokens: wordTokens(30), tokenDelayMs: 10 });
      const slow = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'slow' }) });
      expect(slow.status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const busy = await call(local, 'POST', '/chat/', { prompt: `busy ${i}` });
        expect([busy.status, busy.json().message]).toEqual([429, expect.stringMatching(/streaming at once/)]);
      }
      await slow.text();
      expect(e2e.fake.requests).toHaveLength(1);

      const two = await call(local, 'POST', '/chat/', { prompt: 'two' });
      const three = await call(local, 'POST', '/api/chat', { id: 'c', messages: [{ role: 'user', parts: [{ type: 'text', text: 'three' }] }] });
      expect([two.status, three.status]).toEqual([200, 200]);
      const four = await call(local, 'POST', `/api/conversations/${fresh}/messages`, { prompt: 'four' });
      expect(four.status).toBe(429);
      expect(four.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/Too many answers: at most 3 a minute/) });
      expect(e2e.fake.requests).toHaveLength(3);
      expect((await e2e.db.readMessages()).map((r) => r.content)).not.toContain('four');
      expectOneRetryAfter(four.headers);
      expectNoPerLimitHeaders(two.headers);
    });

    it('has exactly one Retry-After on every 429, and no per-limit headers', async () => {
      await start({ RATE_LIMIT_REQUESTS_PER_MINUTE: '4', RATE_LIMIT_ANSWERS_PER_MINUTE: '1' });
      const local = cookieClient();
      const first = await call(local, 'POST', '/chat/', { prompt: 'one' });
      expect(first.status).toBe(200);
      expectNoPerLimitHeaders(first.headers);
      const answers = await call(local, 'POST', '/chat/', { prompt: 'two' });
      expect(answers.status).toBe(429);
      expectOneRetryAfter(answers.headers);
      expectNoPerLimitHeaders(answers.headers);
      expect((await call(local, 'GET', '/api/info')).status).toBe(200);
      expect((await call(local, 'GET', '/api/info')).status).toBe(200);
      const requests = await call(local, 'GET', '/api/info');
      expect(requests.status).toBe(429);
      expect(requests.json().message).toMatch(/Too many requests: at most 4 a minute/);
      expectOneRetryAfter(requests.headers);
      expectNoPerLimitHeaders(requests.headers);
    });

    it('counts every request against RATE_LIMIT_REQUESTS_PER_MINUTE, the page, the docs and unknown paths included, but never /healthz', async () => {
      await start({ RATE_LIMIT_REQUESTS_PER_MINUTE: '5' });
      const get = async (path: string) => {
        const response = await fetch(`${e2e.url}${path}`);
        return { status: response.status, headers: response.headers, text: await response.text() };
      };
      const health = async () => {
        for (let i = 0; i < 3; i++) expect((await get('/healthz')).status).toBe(200);
      };
      await health();
      const admitted = [];
      for (const path of ['/', '/chat.css', '/no/such/path', '/api/docs-json', '/api/conversations/nope/more']) {
        admitted.push((await get(path)).status);
        await health();
      }
      expect(admitted).toEqual([200, 200, 404, 200, 404]);
      for (const path of ['/chat.css', '/no/such/path', '/api/docs-json', '/api/docs', '/', '/api/info']) {
        const refused = await get(path);
        expect([path, refused.status]).toEqual([path, 429]);
        expect(JSON.parse(refused.text)).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          message: expect.stringMatching(/Too many requests: at most 5 a minute/),
        });
        expectOneRetryAfter(refused.headers);
        expectNoPerLimitHeaders(refused.headers);
      }
      await health();
    });

    it('counts requests refused for want of a token too, per address', async () => {
      await start({ AUTH_MODE: 'token', API_TOKENS: TOKEN_A, RATE_LIMIT_REQUESTS_PER_MINUTE: '3' });
      const anonymous = cookieClient();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(anonymous, 'GET', '/api/conversations')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      // A token's owner counts apart from its address.
      expect((await call(bearerClient(TOKEN_A), 'GET', '/api/conversations')).status).toBe(200);
    });

    it('streams at most MAX_STREAMS_PER_CLIENT answers at once per client', async () => {
      await start({ MAX_STREAMS_PER_CLIENT: '1' });
      e2e.fake.enqueue({ tokens: wordTokens(40), tokenDelayMs: 10 });
      const first = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'slow' }) });
      const second = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'too soon' }) });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await second.json()) as { message: string }).message).toMatch(/at most 1 per client/);
      expect(parseNdjson(await first.text()).at(-1)!.content).toBe(wordTokens(40).join(''));
      // The slot is free again once the first answer is over.
      const third = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'now' }) });
      expect(third.status).toBe(200);
      await third.text();
    });
    it('counts stream slots once for every streaming route: the seed, the REST API and the AI SDK share them', async () => {
      await start({ MAX_STREAMS_PER_CLIENT: '1' });
      const anonymous: Client = { headers: () => ({}), remember: () => undefined }; // AUTH_MODE=none: one client
      e2e.fake.enqueue({ tokens: wordTokens(40), tokenDelayMs: 10 });
      const seed = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'slow' }) });
      const id = (await call(anonymous, 'POST', '/api/conversations', {})).json().id as string;
      const rest = await call(anonymous, 'POST', `/api/conversations/${id}/messages`, { prompt: 'too soon' });
      expect(rest.status).toBe(429);
      const aiSdk = await call(anonymous, 'POST', '/api/chat', { id: 'c', messages: [{ role: 'user', parts: [{ type: 'text', text: 'too soon' }] }] });
      expect(aiSdk.status).toBe(429);
      await seed.text();
      expect((await call(anonymous, 'POST', `/api/conversations/${id}/messages`, { prompt: 'now' })).status).toBe(200);
    });
  });

  describe('behind a reverse proxy (TRUST_PROXY)', () => {
    it('takes the client from X-Forwarded-For for limits, and marks the cookie Secure over HTTPS', async () => {
      await start({ AUTH_MODE: 'cookie', SESSION_SECRET: SECRET, TRUST_PROXY: 'loopback', RATE_LIMIT_REQUESTS_PER_MINUTE: '2' });
      const via = (client: string, proto = 'http') =>
        fetch(`${e2e.url}/api/info`, { headers: { 'x-forwarded-for': client, 'x-forwarded-proto': proto } });
      const secure = await via('203.0.113.1', 'https');
      expect(secure.headers.get('set-cookie')).toMatch(/; Secure$/);
      const plain = await via('203.0.113.1');
      expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
      expect((await via('203.0.113.1')).status).toBe(429); // that client's third request
      expect((await via('203.0.113.2')).status).toBe(200); // another client behind the same proxy
    });

    it('ignores X-Forwarded-For without TRUST_PROXY: one address, one limit', async () => {
      await start({ RATE_LIMIT_REQUESTS_PER_MINUTE: '2' });
      const via = (client: string) => fetch(`${e2e.url}/api/info`, { headers: { 'x-forwarded-for': client } });
      expect([(await via('203.0.113.1')).status, (await via('203.0.113.2')).status, (await via('203.0.113.3')).status]).toEqual([200, 200, 429]);
    });
  });

  describe('Host checks', () => {
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${e2e.url}/chat/`);
        const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });

    it('on a loopback HOST, refuses requests naming another host (DNS rebinding) with 421', async () => {
      await start({});
      const port = new URL(e2e.url).port;
      expect((await withHost(`localhost:${port}`)).status).toBe(200);
      expect((await withHost(`127.0.0.1:${port}`)).status).toBe(200);
      const rebound = await withHost(`evil.example:${port}`);
      expect(rebound.status).toBe(421);
      expect(JSON.parse(rebound.body)).toMatchObject({ statusCode: 421, message: expect.stringMatching(/ALLOWED_HOSTS/) });
    });

    it('answers the names ALLOWED_HOSTS lists', async () => {
      await start({ ALLOWED_HOSTS: 'chat.example.com' });
      expect((await withHost('chat.example.com')).status).toBe(200);
      expect((await withHost('localhost')).status).toBe(421);
    });
  });
});
