import { parseNdjson } from './support/app-harness.js';
import { useE2eFixture } from './support/e2e-fixture.js';

describe('no setup: the built-in offline model', () => {
  // No OPENAI_* variables at all, as on a fresh clone.
  const e2e = useE2eFixture({ scope: 'file', upstream: false });

  it('says so to the page', async () => {
    expect(await (await fetch(`${e2e.url}/api/info`)).json()).toEqual({ model: 'offline', offline: true, allowRemoteImages: false });
  });

  it('streams a labelled answer word by word through the same path, and stores it', async () => {
    const response = await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt: 'Hello offline' }) });
    const lines = parseNdjson(await response.text());
    const modelLines = lines.filter((l) => l.role === 'model');
    expect(modelLines.length).toBeGreaterThan(5);
    const answer = modelLines.at(-1)!.content;
    expect(answer).toMatch(/^\*\*Offline model\.\*\*/);
    expect(answer).toContain('> Hello offline');
    expect(answer).toContain('OPENAI_API_KEY');
    const rows = await e2e.db.readMessages();
    expect(rows.map((r) => [r.role, r.status, r.model])).toEqual([
      ['user', 'complete', null],
      ['model', 'complete', 'offline'],
    ]);
    expect(rows[1].content).toBe(answer);
  });
});
