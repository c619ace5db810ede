import { randomUUID } from 'node:crypto';
import type { SeedLine } from '../src/contract/api-shapes.js';
import { parseNdjson, readTimedChunks } from './support/app-harness.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

describe('seed contract: GET and POST /chat/ against an OpenAI-compatible upstream', () => {
  const e2e = useE2eFixture({ upstream: { tokens: wordTokens(5) }, env: { OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-model' } });

  const postForm = (prompt: string) => {
    const form = new FormData();
    form.append('prompt', prompt);
    return fetch(`${e2e.url}/chat/`, { method: 'POST', body: form });
  };
  const getHistory = async (path = '/chat/') => parseNdjson(await (await fetch(`${e2e.url}${path}`)).text());

  it('answers GET /chat/ and /chat on a fresh database with empty text/plain', async () => {
    for (const path of ['/chat/', '/chat']) {
      const response = await fetch(`${e2e.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toBe('');
    }
  });

  it.each([
    ['multipart FormData', () => { const f = new FormData(); f.append('prompt', 'héllo 👋'); return { body: f }; }],
    ['urlencoded', () => ({ body: new URLSearchParams({ prompt: 'héllo 👋' }) })],
    ['JSON', () => ({ body: JSON.stringify({ prompt: 'héllo 👋' }), headers: { 'content-type': 'application/json' } })],
  ])('takes the prompt as %s and streams ndjson: user line, then the answer', async (_, makeRequest) => {
    for (const path of ['/chat/', '/chat']) {
      const response = await fetch(`${e2e.url}${path}`, { method: 'POST', ...makeRequest() });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      const lines = parseNdjson(await response.text());
      expect(lines[0]).toEqual({ role: 'user', timestamp: expect.any(String), content: 'héllo 👋' });
      expect(lines.at(-1)).toEqual({ role: 'model', timestamp: expect.any(String), content: wordTokens(5).join('') });
    }
    expect(e2e.fake.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: 'user', content: 'héllo 👋' });
  });

  it('writes the user line before the model answers, and the answer as it arrives', async () => {
    e2e.fake.enqueue({ tokens: wordTokens(30), firstTokenDelayMs: 300, tokenDelayMs: 15 });
    const response = await postForm('stream please');
    const chunks = await readTimedChunks(response);
    const firstChunkLines = parseNdjson(chunks[0].text);
    expect(firstChunkLines).toEqual([{ role: 'user', timestamp: expect.any(String), content: 'stream please' }]);
    // The user line came ~300 ms before the first token; the answer itself came in many reads.
    const modelChunks = chunks.filter((c) => c.text.includes('"role":"model"'));
    expect(modelChunks.length).toBeGreaterThan(5);
    expect(modelChunks[0].at - chunks[0].at).toBeGreaterThan(150);
    expect(modelChunks.at(-1)!.at - modelChunks[0].at).toBeGreaterThan(150);
  });

  it('sends cumulative model lines with one timestamp per answer, the full text last and nothing after', async () => {
    const tokens = wordTokens(40);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 4 });
    const lines = parseNdjson(await (await postForm('count')).text());
    const [userLine, ...modelLines] = lines;
    expect(userLine.role).toBe('user');
    expect(modelLines.length).toBeGreaterThan(1);
    expect(modelLines.every((l) => l.role === 'model')).toBe(true);
    expect(new Set(modelLines.map((l) => l.timestamp)).size).toBe(1);
    expect(modelLines[0].timestamp > userLine.timestamp).toBe(true);
    for (let i = 1; i < modelLines.length; i++) {
      expect(modelLines[i].content.startsWith(modelLines[i - 1].content)).toBe(true);
      expect(modelLines[i].content.length).toBeGreaterThan(modelLines[i - 1].content.length);
    }
    expect(modelLines.at(-1)!.content).toBe(tokens.join(''));
  });

  it('sends the full text once, last, when the usage report follows the last token within the window', async () => {
    // Tokens slower than the 10 ms window go out at once; the usage chunk right after the last one
    // carries no new text and must not become a second, identical line.
    const tokens = wordTokens(4);
    for (let run = 0; run < 3; run++) {
      e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
      const lines = parseNdjson(await (await postForm(`usage ${run}`)).text());
      const contents = lines.filter((l) => l.role === 'model').map((l) => l.content);
      expect(contents.at(-1)).toBe(tokens.join(''));
      expect(new Set(contents).size).toBe(contents.length);
    }
  });

  it('groups tokens that arrive within the debounce window into one line', async () => {
    const tokens = wordTokens(300);
    e2e.fake.enqueue({ tokens }); // as fast as the upstream can send
    const lines = parseNdjson(await (await postForm('fast')).text());
    const modelLines = lines.filter((l) => l.role === 'model');
    expect(modelLines.length).toBeLessThan(100);
    expect(modelLines.at(-1)!.content).toBe(tokens.join(''));
  });

  it("works with the original page's parser: every read splits into whole JSON lines", async () => {
    e2e.fake.enqueue({ tokens: wordTokens(60).map((t) => `${t}"quoted" \\ ünï ✓\n`), tokenDelayMs: 3 });
    const response = await postForm('parse me');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const rendered = new Map<string, SeedLine>();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
      // What the seed page does after every read: split all so far on \n, skip short lines, parse the rest.
      for (const line of text.split('\n').filter((l) => l.length > 1)) {
        const message = JSON.parse(line) as SeedLine;
        rendered.set(`msg-${message.timestamp}`, message);
      }
    }
    expect([...rendered.values()].map((m) => m.role)).toEqual(['user', 'model']);
  });

  it('streams the timestamps it stores, and GET /chat/ returns the conversation in order', async () => {
    const first = parseNdjson(await (await postForm('one')).text());
    e2e.fake.enqueue({ tokens: ['second ', 'answer'] });
    const second = parseNdjson(await (await postForm('two')).text());
    const history = await getHistory();
    expect(history).toEqual([first[0], first.at(-1), second[0], second.at(-1)]);
    const timestamps = history.map((m) => m.timestamp);
    expect(new Set(timestamps).size).toBe(4);
    expect([...timestamps].sort()).toEqual(timestamps);

    const rows = (await e2e.db.readMessages());
    expect(rows.map((r) => [r.role, r.status, r.model])).toEqual([
      ['user', 'complete', null],
      ['model', 'complete', 'fake-model'],
      ['user', 'complete', null],
      ['model', 'complete', 'fake-model'],
    ]);
  });

  it('sends the stored history to the model as context, with the system prompt first', async () => {
    await e2e.stop();
    await e2e.start({ SYSTEM_PROMPT: 'You are terse.' });
    e2e.fake.enqueue({ tokens: ['A1'] }, { tokens: ['A2'] });
    await (await postForm('Q1')).text();
    await (await postForm('Q2')).text();
    expect(e2e.fake.requests[1].body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ]);
  });

  it('keeps the history and its order across a restart on the same file', async () => {
    for (const prompt of ['p1', 'p2', 'p3']) await (await postForm(prompt)).text();
    const before = await getHistory();
    expect(before.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['p1', 'p2', 'p3']);

    await e2e.stop();
    await e2e.start();
    expect(await getHistory()).toEqual(before);

    await (await postForm('p4')).text();
    const after = await getHistory();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['p1', 'p2', 'p3', 'p4']);
    // The model saw the history from before the restart.
    expect(e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content).slice(0, 2)).toEqual(['p1', wordTokens(5).join('')]);
  });

  it('marks an answer a crash left `streaming` as interrupted at the next start', async () => {
    await (await postForm('before the crash')).text();
    await e2e.stop();
    // What a kill -9 mid-answer leaves behind: the answer's row, still marked streaming by a writer now gone.
    await e2e.db.execute([
      { sql: `UPDATE messages SET status = 'streaming', content = 'half an', instance_id = ? WHERE role = 'model'`, params: [randomUUID()] },
    ]);
    await e2e.start();
    expect((await e2e.db.readMessages()).map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'before the crash', 'complete'],
      ['model', 'half an', 'interrupted'],
    ]);
    expect((await getHistory()).map((m) => m.content)).toEqual(['before the crash', 'half an']);
  });

  it('serves the chat page from public/ with a same-origin Content-Security-Policy', async () => {
    const response = await fetch(`${e2e.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await response.text();
    expect(html).toContain('src="build/app.js"');
    expect(html).not.toMatch(/(src|href)="https?:/);
    const script = await fetch(`${e2e.url}/build/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });
});
