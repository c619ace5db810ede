import { parseNdjson } from './support/app-harness.js';
import { waitForMessages, withTimeout } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

describe('failures on the way: client leaves, upstream fails', () => {
  const e2e = useE2eFixture({
    upstream: { tokens: wordTokens(5) },
    // Retries are covered in upstream-faults; here one failure must reach the client.
    env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0' },
  });

  const post = (prompt: string, signal?: AbortSignal) =>
    fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }), signal });

  it('aborts the upstream within a second when the client goes away, and stores the partial answer as interrupted', async () => {
    const tokens = wordTokens(500);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 10 });
    const abort = new AbortController();
    const response = await post('long answer please', abort.signal);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"role":"model"/g) ?? []).length < 3) {
      const { value } = await reader.read();
      text += decoder.decode(value, { stream: true });
    }
    const shown = parseNdjson(text.slice(0, text.lastIndexOf('\n') + 1)).at(-1)!.content;
    abort.abort();

    await withTimeout(e2e.fake.requests[0].closed, 1000, 'upstream connection closing');
    expect(e2e.fake.requests[0].aborted).toBe(true);

    // The answer's row exists from the start (streaming); wait for it to be stored as the client left it.
    const rows = await waitForMessages(e2e.db, (r) => r.length === 2 && r[1].status !== 'streaming');
    expect(rows[0]).toMatchObject({ role: 'user', content: 'long answer please', status: 'complete' });
    expect(rows[1]).toMatchObject({ role: 'model', status: 'interrupted', model: 'fake-model' });
    // Everything that arrived is kept: at least what the client saw, never the whole answer.
    expect(rows[1].content.startsWith(shown)).toBe(true);
    expect(rows[1].content.length).toBeLessThan(tokens.join('').length);

    // The server keeps serving, and the partial answer is part of the history.
    const history = parseNdjson(await (await fetch(`${e2e.url}/chat/`)).text());
    expect(history.map((m) => m.content)).toEqual(['long answer please', rows[1].content]);
  });

  it('keeps the prompt when the client leaves before the first token', async () => {
    e2e.fake.enqueue({ tokens: wordTokens(5), firstTokenDelayMs: 2000 });
    const abort = new AbortController();
    const response = await post('quick exit', abort.signal);
    const reader = response.body!.getReader();
    await reader.read(); // the user line
    const upstream = await e2e.fake.request(1);
    abort.abort();
    await withTimeout(upstream.closed, 1000, 'upstream connection closing');
    expect(upstream.aborted).toBe(true);
    // The answer's row exists from the start (streaming); wait for it to be stored as the client left it.
    const rows = await waitForMessages(e2e.db, (r) => r.length === 2 && r[1].status !== 'streaming');
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'quick exit', 'complete'],
      ['model', '', 'interrupted'],
    ]);
    // An answer with no text is a record, not a message to show.
    expect(parseNdjson(await (await fetch(`${e2e.url}/chat/`)).text()).map((m) => m.content)).toEqual(['quick exit']);
  });

  it('ends the stream with one error line when the upstream answers 500, keeps the prompt and serves on', async () => {
    e2e.fake.enqueue({ status: 500, errorMessage: 'internal details' });
    const response = await post('will fail');
    expect(response.status).toBe(200);
    const lines = parseNdjson(await response.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ role: 'user', content: 'will fail' });
    expect(lines[1]).toEqual({ role: 'error', timestamp: expect.any(String), content: expect.stringMatching(/HTTP 500/) });
    expect(lines[1].content).not.toContain('internal details');
    expect(lines[1].content).not.toMatch(/\n\s+at /);

    const rows = (await e2e.db.readMessages());
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'will fail', 'complete'],
      ['model', '', 'error'],
    ]);
    expect(rows[1].error).toBe(lines[1].content);

    const next = parseNdjson(await (await post('try again')).text());
    expect(next.at(-1)).toMatchObject({ role: 'model', content: wordTokens(5).join('') });
    // The failed turn left the prompt in the context; the empty answer is not sent.
    expect(e2e.fake.requests[1].body.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'will fail'],
      ['user', 'try again'],
    ]);
  });

  it('ends with an error line when the upstream connection drops mid-answer, and stores what arrived', async () => {
    const tokens = wordTokens(20);
    e2e.fake.enqueue({ tokens, dropAfterTokens: 8, tokenDelayMs: 5 });
    const lines = parseNdjson(await (await post('drop it')).text());
    expect(lines[0].role).toBe('user');
    expect(lines.at(-1)).toMatchObject({ role: 'error', content: expect.stringMatching(/broke off/) });
    const modelLines = lines.filter((l) => l.role === 'model');
    expect(modelLines.at(-1)!.content).toBe(tokens.slice(0, 8).join(''));

    const rows = (await e2e.db.readMessages());
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'drop it', 'complete'],
      ['model', tokens.slice(0, 8).join(''), 'error'],
    ]);
  });

  it('ends with an error line when the model server cannot be reached', async () => {
    await e2e.stop();
    // A closed port, reached with the app's own defaults (model, retries) as before.
    await e2e.start({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_MODEL: undefined, UPSTREAM_RETRIES: undefined });
    const lines = parseNdjson(await (await post('anyone there?')).text());
    expect(lines.map((l) => l.role)).toEqual(['user', 'error']);
    expect(lines[1].content).toBe('The model server could not be reached.');
    expect((await e2e.db.readMessages()).map((r) => r.content)).toContain('anyone there?');
  });
});
