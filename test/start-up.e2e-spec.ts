import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useE2eFixture } from './support/e2e-fixture.js';

const LOADER = join(process.cwd(), 'test/support/loaded-packages.mjs');

/** What dist/main.js loads: only what its configuration uses, and the API docs' packages on the first request for them. */
describe('dist/main.js loads only what it uses', () => {
  describe.each([
    ['the built-in offline model', false],
    ['an OpenAI-compatible upstream', true],
  ] as const)('with %s', (_, upstream) => {
    const e2e = useE2eFixture({ upstream: upstream ? {} : false, autoStart: false });

    it('loads no Swagger, no Redis client, no MCP client, no tool schema libraries, no OpenTelemetry SDK and only its own database driver until used; the docs load on their first request', async () => {
      const file = join(e2e.dir.path, 'loaded-packages.txt');
      const running = await e2e.startBuilt({ LOADED_PACKAGES_FILE: file }, ['--import', LOADER]);
      const loaded = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

      expect((await fetch(`${running.url}/chat/`)).status).toBe(200);
      const atStart = loaded();
      expect(atStart).toEqual(expect.arrayContaining(['@nestjs/core', 'typeorm']));
      expect(atStart).not.toContain('@nestjs/swagger');
      expect(atStart).not.toContain('swagger-ui-dist');
      expect(atStart).not.toContain('ioredis'); // no REDIS_URL
      expect(atStart).not.toContain('@modelcontextprotocol/sdk'); // no MCP_CONFIG
      // No tools (AGENT_TOOLS, MCP_CONFIG): nothing validates or describes tool arguments.
      expect(atStart).not.toContain('ajv');
      expect(atStart).not.toContain('class-validator-jsonschema');
      // No OTEL_* exporter: only the no-op API, none of the SDK.
      expect(atStart.filter((name) => name.startsWith('@opentelemetry/'))).toEqual(['@opentelemetry/api']);
      expect(atStart.includes('openai')).toBe(upstream);
      expect(atStart.includes('pg')).toBe(e2e.db.kind === 'postgres');
      expect(atStart.includes('better-sqlite3')).toBe(e2e.db.kind === 'sqlite');

      const docs = await fetch(`${running.url}/api/docs-json`);
      expect(docs.status).toBe(200);
      expect(Object.keys(((await docs.json()) as { paths: object }).paths)).toContain('/api/conversations');
      expect(loaded()).toContain('@nestjs/swagger');
    });
  });
});
