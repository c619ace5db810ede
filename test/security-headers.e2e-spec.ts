import { type TestDatabase, testDatabase } from './support/database.js';
import { type RunningApp, startApp, tempDir } from './support/app-harness.js';
import { FakeOpenAi } from './support/fake-openai.js';

describe('security headers and CORS', () => {
  let fake: FakeOpenAi;
  let dir: ReturnType<typeof tempDir>;
  let running: RunningApp | undefined;
  let db: TestDatabase;

  beforeEach(async () => {
    fake = await FakeOpenAi.start({ tokens: ['ok'] });
    dir = tempDir();
    db = await testDatabase(dir.path);
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await fake.close();
    await db.drop();
    dir.remove();
  });

  const start = async (env: Record<string, string> = {}) =>
    (running = await startApp({ OPENAI_BASE_URL: fake.baseURL, DATABASE_URL: db.url, ...env }));

  const preflight = (url: string, origin: string) =>
    fetch(`${url}/api/conversations`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const createFrom = (url: string, origin: string) =>
    fetch(`${url}/api/conversations`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{}' });

  it('sends helmet headers on API responses and on the page', async () => {
    const app = await start();
    for (const path of ['/api/info', '/chat/', '/']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('x-powered-by')).toBeNull();
      await response.arrayBuffer();
    }
    expect((await fetch(`${app.url}/`)).headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });

  it('keeps CORS closed by default: no CORS headers, and cross-site writes are refused', async () => {
    const app = await start();
    const response = await preflight(app.url, 'https://app.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const write = await createFrom(app.url, 'https://app.example');
    expect(write.status).toBe(403);
  });

  it('opens CORS to the origins CORS_ORIGINS lists, and only to them', async () => {
    const app = await start({ CORS_ORIGINS: 'https://app.example, http://localhost:5173' });
    const allowed = await preflight(app.url, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await createFrom(app.url, 'https://app.example')).status).toBe(201);
    expect((await createFrom(app.url, 'http://localhost:5173')).status).toBe(201);

    const other = await preflight(app.url, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await createFrom(app.url, 'https://evil.example')).status).toBe(403);
  });
});
