import type { LoggerService } from '@nestjs/common';
import { parseNdjson } from './support/app-harness.js';
import { type AppProcess, freePort, startBuiltApp } from './support/built-app.js';
import { withTimeout } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { type FakeReply, wordTokens } from './support/fake-openai.js';
import { type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

/** Everything the app logs, as text. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...args: unknown[]): void {
    this.lines.push(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(' '));
  }
  error = this.log;
  warn = this.log;
  debug = this.log;
  verbose = this.log;
  fatal = this.log;
}

/** A base URL with credentials in it (user, password, a gateway's `?api-key=`), on a port nothing listens on. */
async function closedUpstreamWithSecrets() {
  const port = await freePort();
  return {
    env: {
      OPENAI_BASE_URL: `http://svcuser:S3cretPassw0rd@127.0.0.1:${port}/v1?api-key=Qu3rySecretValue`,
      OPENAI_API_KEY: 'sk-ApiKeySecret123',
      UPSTREAM_RETRIES: '1', // a retry warning is logged too
    },
    address: `127.0.0.1:${port}`,
    secrets: ['S3cretPassw0rd', 'Qu3rySecretValue', 'sk-ApiKeySecret123', 'svcuser'],
  };
}

describe('upstream faults: retries, timeouts, malformed streams, keep-alive', () => {
  const e2e = useE2eFixture({ upstream: { tokens: wordTokens(5) }, autoStart: false });

  const start = (env: Record<string, string> = {}) => e2e.start(env);
  const post = async (prompt: string) =>
    (await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }) })).text();

  it('retries a 429 and a 500 before the first token, and answers', async () => {
    await start();
    e2e.fake.enqueue({ status: 429 }, { status: 500 }, { tokens: ['third ', 'time'] });
    const lines = parseNdjson(await post('please'));
    expect(lines[0].role).toBe('user');
    expect(lines.slice(1).every((l) => l.role === 'model')).toBe(true); // no error line
    expect(lines.at(-1)!.content).toBe('third time');
    expect(e2e.fake.requests).toHaveLength(3);
    expect((await e2e.db.readMessages()).map((r) => [r.role, r.status])).toEqual([
      ['user', 'complete'],
      ['model', 'complete'],
    ]);
  });

  it('gives up after UPSTREAM_RETRIES and ends with the error line', async () => {
    await start({ UPSTREAM_RETRIES: '1' });
    e2e.fake.enqueue({ status: 503 }, { status: 503 }, { tokens: ['never'] });
    const lines = parseNdjson(await post('please'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/HTTP 503/) });
    expect(e2e.fake.requests).toHaveLength(2);
  });

  it('does not retry once text has arrived', async () => {
    await start();
    e2e.fake.enqueue({ tokens: wordTokens(10), dropAfterTokens: 3, tokenDelayMs: 5 });
    const lines = parseNdjson(await post('please'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/broke off/) });
    expect(e2e.fake.requests).toHaveLength(1);
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ content: wordTokens(3).join(''), status: 'error' });
  });

  it('does not retry what a retry cannot fix (401, 400)', async () => {
    await start();
    e2e.fake.enqueue({ status: 401 }, { status: 400, errorMessage: 'bad request' });
    expect(parseNdjson(await post('one')).at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/API key/) });
    expect(parseNdjson(await post('two')).at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/HTTP 400/) });
    expect(e2e.fake.requests).toHaveLength(2);
  });

  it('times out an upstream that sends no first token, and closes its connection', async () => {
    await start({ UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: '300', UPSTREAM_RETRIES: '0' });
    e2e.fake.enqueue({ tokens: ['late'], firstTokenDelayMs: 10_000 });
    const lines = parseNdjson(await post('hello?'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: 'The model server sent nothing for 0.3 s.' });
    await withTimeout(e2e.fake.requests[0].closed, 1000, 'upstream connection closing');
    expect(e2e.fake.requests[0].aborted).toBe(true);
  });

  it('times out an upstream that goes quiet mid-answer, keeping what arrived', async () => {
    await start({ UPSTREAM_IDLE_TIMEOUT_MS: '300' });
    e2e.fake.enqueue({ tokens: ['fast ', 'start ', 'never'], tokenDelays: [0, 0, 10_000] });
    const lines = parseNdjson(await post('go'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/stopped sending for 0.3 s/) });
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ content: 'fast start ', status: 'error' });
    expect(e2e.fake.requests).toHaveLength(1); // text had arrived: no retry
  });

  it('ends the answer with the upstream’s message on an `event: error` mid-stream, keeping the text so far', async () => {
    await start();
    e2e.fake.enqueue({ tokens: wordTokens(6), errorEvent: { afterTokens: 3, message: 'The engine is overloaded' } });
    const lines = parseNdjson(await post('overload me'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: 'The model server reported an error: The engine is overloaded' });
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ content: wordTokens(3).join(''), status: 'error' });
    expect(e2e.fake.requests).toHaveLength(1); // a server error after the first token is not retried
  });

  it('ends a malformed upstream stream with an error line, and keeps serving', async () => {
    await start();
    e2e.fake.enqueue({ tokens: wordTokens(6), malformedAfterTokens: 2 });
    const lines = parseNdjson(await post('break it'));
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: 'The model server sent malformed data.' });
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ content: wordTokens(2).join(''), status: 'error' });
    expect(parseNdjson(await post('again')).at(-1)).toMatchObject({ role: 'model', content: wordTokens(5).join('') });
  });

  it.each(['node', 'fetch'])(
    'UPSTREAM_HTTP_CLIENT=%s: an unreachable server with credentials in its URL reaches no client, row or log line with them or its address',
    async (httpClient) => {
      const upstream = await closedUpstreamWithSecrets();
      const logger = new CapturingLogger();
      const running = await e2e.start({ ...upstream.env, UPSTREAM_HTTP_CLIENT: httpClient }, { logger });
      const expected = 'The model server could not be reached.';

      const seed = await (await fetch(`${running.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'anyone?' }) })).text();
      expect(parseNdjson(seed).at(-1)).toMatchObject({ role: 'error', content: expected });

      const { id } = (await (await fetch(`${running.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string };
      const delta = await (
        await fetch(`${running.url}/api/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hello?"}' })
      ).text();
      expect(ndjson<DeltaEvent>(delta).at(-1)).toMatchObject({ type: 'error', message: expected });
      const stored = await (await fetch(`${running.url}/api/conversations/${id}/messages`)).text();
      expect((JSON.parse(stored) as { items: MessageJson[] }).items.at(-1)).toMatchObject({ role: 'model', status: 'error', error: expected });

      for (const text of [seed, delta, stored]) {
        expect(text).not.toContain(upstream.address);
        for (const secret of upstream.secrets) expect(text).not.toContain(secret);
      }
      const log = logger.lines.join('\n');
      expect(log).toMatch(/Retrying in \d+ ms/);
      expect(log).toMatch(/Model call failed: The model server could not be reached\. \(\w+/);
      for (const secret of upstream.secrets) expect(log).not.toContain(secret);
    },
  );

  it('the built app’s start-up log names the model server without its credentials, and so do its warnings', async () => {
    const upstream = await closedUpstreamWithSecrets();
    let app: AppProcess | undefined;
    try {
      app = await startBuiltApp({ ...upstream.env, DATABASE_URL: e2e.db.url });
      const body = await (await fetch(`${app.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'anyone?' }) })).text();
      expect(parseNdjson(body).at(-1)).toMatchObject({ role: 'error', content: 'The model server could not be reached.' });
      // The warning is logged before the error line goes out, but reaches us through a pipe.
      for (const deadline = Date.now() + 2000; !/Model call failed/.test(app.log()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect(app.log()).toContain(`Model: gpt-4o-mini via http://${upstream.address}/v1`);
      expect(app.log()).toMatch(/Retrying in \d+ ms/);
      expect(app.log()).toMatch(/Model call failed/);
      for (const secret of upstream.secrets) expect(app.log()).not.toContain(secret);
    } finally {
      await app?.stop();
    }
  });

  describe.each(['node', 'fetch'])('UPSTREAM_HTTP_CLIENT=%s: an unreadable answer is an error, stored with the text so far, and not retried', (httpClient) => {
    it.each<[string, FakeReply, RegExp, string]>([
      ['a 200 with an HTML page', { htmlPage: true }, /^The model server answered with text\/html, not an event stream\./, ''],
      ['a 20 MB line with no newline', { tokens: wordTokens(5), hugeLine: { afterTokens: 2, bytes: 20 * 1024 * 1024 } }, /event over 1 MiB/, wordTokens(2).join('')],
      ['[DONE] and no choice at all', { noChoices: true }, /ended the stream without an answer/, ''],
    ])('%s', async (_, reply, message, textSoFar) => {
      await start({ UPSTREAM_HTTP_CLIENT: httpClient });
      e2e.fake.enqueue(reply);
      const lines = parseNdjson(await post('read this'));
      expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(message) });
      expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ role: 'model', content: textSoFar, status: 'error', error: lines.at(-1)!.content });
      expect(e2e.fake.requests).toHaveLength(1);
      await withTimeout(e2e.fake.requests[0].closed, 2000, 'upstream connection closing');
      if (reply.hugeLine) {
        // Reading stopped and the request was aborted long before the line's end.
        expect(e2e.fake.requests[0].aborted).toBe(true);
        expect(e2e.fake.requests[0].hugeLineBytesSent).toBeLessThan(reply.hugeLine.bytes);
      }
    });
  });

  it('keeps text ended by [DONE] without a finish_reason as a complete answer', async () => {
    await start();
    e2e.fake.enqueue({ tokens: ['no ', 'finish ', 'reason'], noFinishReason: true });
    expect(parseNdjson(await post('go')).at(-1)).toMatchObject({ role: 'model', content: 'no finish reason' });
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ content: 'no finish reason', status: 'complete', error: null });
  });

  it('sends empty keep-alive lines while the model is quiet, which readers skip', async () => {
    await start({ KEEPALIVE_INTERVAL_MS: '50' });
    e2e.fake.enqueue({ tokens: ['after ', 'a pause'], firstTokenDelayMs: 500 }, { tokens: ['delta ', 'too'], firstTokenDelayMs: 500 });
    const body = await post('think first');
    expect(body).toMatch(/\n\n/); // an empty line went out while waiting
    // The seed page skips lines of one character or less, then parses the rest.
    const lines = body.split('\n').filter((l) => l.length > 1).map((l) => JSON.parse(l) as { role: string; content: string });
    expect(lines[0].role).toBe('user');
    expect(lines.slice(1).every((l) => l.role === 'model')).toBe(true);
    expect(lines.at(-1)!.content).toBe('after a pause');

    const conversation = (await (await fetch(`${e2e.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string };
    const delta = await (
      await fetch(`${e2e.url}/api/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'think again' }),
      })
    ).text();
    expect(delta).toMatch(/\n\n/);
    const types = ndjson<{ type: string }>(delta).map((e) => e.type);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('done');
    expect(types.slice(1, -1).every((t) => t === 'delta')).toBe(true);
  });
});
