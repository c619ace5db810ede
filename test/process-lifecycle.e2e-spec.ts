import { once } from 'node:events';
import { parseNdjson } from './support/app-harness.js';
import { startBuiltApp } from './support/built-app.js';
import { withTimeout } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

/** The built app in its own process, stopped with real signals: SIGTERM drains, SIGKILL loses nothing stored. */
describe('dist/main.js under SIGTERM and SIGKILL', () => {
  const e2e = useE2eFixture({ upstream: { tokens: wordTokens(5) }, env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0' }, autoStart: false });

  // No checkpoints: what a kill loses is the point here (test/answer-runs covers checkpoints).
  const start = () => e2e.startBuilt({ ANSWER_CHECKPOINT_MS: '0' });

  /** Starts a slow answer and resolves once a few model lines have arrived, with the reader and text so far. */
  async function slowAnswerUnderway(url: string, prompt: string) {
    e2e.fake.enqueue({ tokens: wordTokens(500), tokenDelayMs: 20 });
    const response = await fetch(`${url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }) });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"role":"model"/g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    return { reader, decoder, text };
  }

  it('SIGTERM ends open streams with an error line, stores their partial answers and exits', async () => {
    const running = await start();
    const stream = await slowAnswerUnderway(running.url, 'long answer');
    const exited = once(running.child, 'exit');
    running.child.kill('SIGTERM');

    let { text } = stream;
    for (;;) {
      const { value, done } = await stream.reader.read();
      if (done) break;
      text += stream.decoder.decode(value, { stream: true });
    }
    const lines = parseNdjson(text);
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/shutting down/) });
    const shown = lines.filter((l) => l.role === 'model').at(-1)!.content;

    const [code, signal] = (await withTimeout(exited, 5000, 'exit after SIGTERM')) as [number | null, string | null];
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    await withTimeout(e2e.fake.requests[0].closed, 1000, 'upstream connection closing');
    expect(e2e.fake.requests[0].aborted).toBe(true);

    const rows = (await e2e.db.readMessages());
    expect(rows.map((r) => [r.role, r.status])).toEqual([
      ['user', 'complete'],
      ['model', 'interrupted'],
    ]);
    expect(rows[1].content.startsWith(shown)).toBe(true);
    expect(rows[1].content.length).toBeGreaterThan(0);
    await expect(fetch(`${running.url}/chat/`)).rejects.toThrow(); // no longer listening
  }, 30_000);

  it('after SIGKILL mid-answer, a restart on the same file keeps every completed exchange and the prompt in flight', async () => {
    const first = await start();
    await (await fetch(`${first.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'completed question' }) })).text();
    await slowAnswerUnderway(first.url, 'in flight');
    const exited = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await exited;

    const second = await start();
    const rows = (await e2e.db.readMessages());
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'completed question', 'complete'],
      ['model', wordTokens(5).join(''), 'complete'],
      ['user', 'in flight', 'complete'],
      ['model', '', 'interrupted'],
    ]);
    expect(second.log()).toMatch(/Marked 1 answer\(s\) cut off by a stopped server as interrupted/);
    // It opens cleanly and serves: the history shows every message with text, and new prompts work.
    const history = parseNdjson(await (await fetch(`${second.url}/chat/`)).text());
    expect(history.map((m) => m.content)).toEqual(['completed question', wordTokens(5).join(''), 'in flight']);
    const next = parseNdjson(await (await fetch(`${second.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'after' }) })).text());
    expect(next.at(-1)).toMatchObject({ role: 'model', content: wordTokens(5).join('') });
  }, 30_000);

  it('warns loudly when AUTH_MODE=none listens beyond loopback, and not when it needs tokens', async () => {
    const open = await startBuiltApp({ OPENAI_BASE_URL: e2e.fake.baseURL, DATABASE_URL: e2e.db.url, HOST: '0.0.0.0' });
    await open.stop();
    expect(open.log()).toMatch(/AUTH_MODE=none on HOST=0\.0\.0\.0: ANYONE who can reach this address/);
    const locked = await startBuiltApp({
      OPENAI_BASE_URL: e2e.fake.baseURL,
      DATABASE_URL: e2e.db.url,
      HOST: '0.0.0.0',
      AUTH_MODE: 'token',
      API_TOKENS: 'a-token-of-sixteen-chars-or-more',
    });
    await locked.stop();
    expect(locked.log()).toMatch(/Access: AUTH_MODE=token/);
    expect(locked.log()).not.toMatch(/ANYONE/);
  });
});
