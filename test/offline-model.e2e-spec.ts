import { parseNdjson, type RunningApp, startApp, tempDir } from './support/app-harness.js';
import { type TestDatabase, testDatabase } from './support/database.js';

describe('no setup: the built-in offline model', () => {
  let dir: ReturnType<typeof tempDir>;
  let running: RunningApp;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = tempDir();
    // No OPENAI_* variables at all, as on a fresh clone.
    db = await testDatabase(dir.path);
    running = await startApp({ DATABASE_URL: db.url, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined });
  });

  afterAll(async () => {
    await running.close();
    await db.drop();
    dir.remove();
  });

  it('says so to the page', async () => {
    expect(await (await fetch(`${running.url}/api/info`)).json()).toEqual({ model: 'offline', offline: true, allowRemoteImages: false });
  });

  it('streams a labelled answer word by word through the same path, and stores it', async () => {
    const response = await fetch(`${running.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'Hello offline' }) });
    const lines = parseNdjson(await response.text());
    const modelLines = lines.filter((l) => l.role === 'model');
    expect(modelLines.length).toBeGreaterThan(5);
    const answer = modelLines.at(-1)!.content;
    expect(answer).toMatch(/^\*\*Offline model\.\*\*/);
    expect(answer).toContain('> Hello offline');
    expect(answer).toContain('OPENAI_API_KEY');
    const rows = await db.readMessages();
    expect(rows.map((r) => [r.role, r.status, r.model])).toEqual([
      ['user', 'complete', null],
      ['model', 'complete', 'offline'],
    ]);
    expect(rows[1].content).toBe(answer);
  });
});
