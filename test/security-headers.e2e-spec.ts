import { useE2eFixture } from './support/e2e-fixture.js';

describe('security headers and CORS', () => {
  const e2e = useE2eFixture({ upstream: { tokens: ['ok'] }, autoStart: false });

  const start = (env: Record<string, string> = {}) => e2e.start(env);

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
