import { parseNdjson } from './support/app-harness.js';
import { type MessageRow, waitForMessages } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

/**
 * Scale-out on PostgreSQL (this file runs in the postgres project only): two real processes
 * of dist/main.js on one database, started together on an empty database, as a load balancer
 * would spread one user's requests.
 */
describe('two instances on one PostgreSQL database', () => {
  const e2e = useE2eFixture({ upstream: { echo: true, tokenDelayMs: 2 }, env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0' }, autoStart: false });

  const start = (env: Record<string, string> = {}) => e2e.startBuilt(env);

  /** Each prompt once, each followed at once by its own complete answer, timestamps rising with ids. */
  function expectConsistentExchanges(rows: MessageRow[], prompts: string[]) {
    expect(rows.filter((r) => r.role === 'user').map((r) => r.content).sort()).toEqual([...prompts].sort());
    expect(rows).toHaveLength(prompts.length * 2);
    for (let i = 0; i < rows.length; i += 2) {
      expect([rows[i].role, rows[i + 1].role, rows[i + 1].status]).toEqual(['user', 'model', 'complete']);
      expect(rows[i + 1].content).toBe(`re: ${rows[i].content}`);
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i].timestamp > rows[i - 1].timestamp).toBe(true);
  }

  it('concurrent POSTs through both store every message exactly once, in one consistent order', async () => {
    // Started together on an empty database: both run the migrations at the same moment.
    const [a, b] = await Promise.all([start(), start()]);
    const created = (await (
      await fetch(`${a.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { id: string };

    const restPrompts = Array.from({ length: 16 }, (_, i) => `rest ${i} via ${i % 2 ? 'b' : 'a'}`);
    const seedPrompts = Array.from({ length: 16 }, (_, i) => `seed ${i} via ${i % 2 ? 'b' : 'a'}`);
    const viaApp = (i: number) => (i % 2 ? b : a).url;
    const responses = await Promise.all([
      ...restPrompts.map((prompt, i) =>
        fetch(`${viaApp(i)}/api/conversations/${created.id}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt }),
        }).then(async (r) => [r.status, await r.text()] as const),
      ),
      // The seed endpoints' default conversation does not exist yet: both create it at once.
      ...seedPrompts.map((prompt, i) =>
        fetch(`${viaApp(i)}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }) }).then(
          async (r) => [r.status, await r.text()] as const,
        ),
      ),
    ]);
    expect(responses.map(([status]) => status)).toEqual(responses.map(() => 200));

    const rows = await e2e.db.readMessages();
    const inRest = rows.filter((r) => r.conversation_id === created.id);
    const inSeed = rows.filter((r) => r.conversation_id !== created.id);
    expect(new Set(inSeed.map((r) => r.conversation_id)).size).toBe(1);
    expectConsistentExchanges(inRest, restPrompts);
    expectConsistentExchanges(inSeed, seedPrompts);

    // Both instances serve the same history, in the stored order.
    const [historyA, historyB] = await Promise.all([a, b].map(async (app) => (await fetch(`${app.url}/chat/`)).text()));
    expect(historyB).toBe(historyA);
    expect(parseNdjson(historyA).map((m) => m.content)).toEqual(inSeed.map((r) => r.content));
    const pages = await Promise.all(
      [a, b].map(async (app) => (await fetch(`${app.url}/api/conversations/${created.id}/messages?limit=100`)).json() as Promise<unknown>),
    );
    expect(pages[1]).toEqual(pages[0]);
  });

  it("an instance starting up leaves a live instance's answer alone, and marks a killed one's interrupted", async () => {
    const a = await start();
    const streamUntilModelLines = async (lines: number) => {
      e2e.fake.enqueue({ tokens: wordTokens(300), tokenDelayMs: 10 });
      const response = await fetch(`${a.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'long one' }) });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while ((text.match(/"role":"model"/g) ?? []).length < lines) text += decoder.decode((await reader.read()).value, { stream: true });
      return reader;
    };

    const live = await streamUntilModelLines(2);
    const resume = e2e.fake.pause(); // a's answer stays under way however long b takes to start
    const b = await start(); // sweeps at start-up: a is alive and holds its lease
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ role: 'model', status: 'streaming' });
    resume();
    while (!(await live.read()).done) {
      // a finishes its answer
    }
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ role: 'model', status: 'complete', content: wordTokens(300).join('') });

    await streamUntilModelLines(2);
    a.child.kill('SIGKILL');
    await new Promise((resolve) => a.child.once('exit', resolve));
    await b.stop();
    await start(); // a third instance: a's lease died with it
    const rows = await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'interrupted');
    expect(rows.map((r) => [r.role, r.status])).toEqual([
      ['user', 'complete'],
      ['model', 'complete'],
      ['user', 'complete'],
      ['model', 'interrupted'],
    ]);
    // Text is stored when an answer ends, never per token: a killed writer leaves the answer empty.
    expect(rows.at(-1)!.content).toBe('');
  });

  it('a running instance marks a killed instance’s answer interrupted at its next sweep, with no restart', async () => {
    // a without checkpoints: the row keeps what a kill leaves of an answer that never saved its text.
    const [a, b] = await Promise.all([start({ ANSWER_CHECKPOINT_MS: '0' }), start({ RECOVERY_SWEEP_INTERVAL_MS: '500' })]);
    e2e.fake.enqueue({ tokens: wordTokens(300), tokenDelayMs: 10 });
    const response = await fetch(`${a.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'cut short' }) });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"role":"model"')) text += new TextDecoder().decode((await reader.read()).value);
    e2e.fake.pause(); // a's answer stays under way until a is killed
    // b's sweeps meanwhile leave a live writer's answer alone.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await e2e.db.readMessages()).at(-1)).toMatchObject({ role: 'model', status: 'streaming' });

    a.child.kill('SIGKILL');
    const rows = await waitForMessages(e2e.db, (r) => r.at(-1)?.status === 'interrupted', 5000);
    expect(rows.map((r) => [r.role, r.content, r.status])).toEqual([
      ['user', 'cut short', 'complete'],
      ['model', '', 'interrupted'],
    ]);
    expect(b.child.exitCode).toBeNull();
    for (const deadline = Date.now() + 2000; !/Marked 1 answer/.test(b.log()) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(b.log()).toMatch(/Marked 1 answer\(s\) cut off by a stopped server as interrupted/);
  });
});
