import { ConfigError, describeModel, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  const cwd = '/srv/chat';

  it('runs with no setup: offline model, SQLite under data/, seed defaults', () => {
    const config = loadConfig({}, cwd);
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      model: { kind: 'offline' },
      database: { type: 'sqlite', path: '/srv/chat/data/chat.sqlite' },
      chatDebounceMs: 10,
      maxPromptChars: 32000,
      systemPrompt: undefined,
    });
    expect(config.maxBodyBytes).toBeGreaterThan(32000 * 9);
  });

  it('uses OpenAI when a key or a base URL is set', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x' }, cwd).model).toEqual({
      kind: 'openai',
      apiKey: 'sk-x',
      baseURL: undefined,
      model: 'gpt-4o-mini',
      httpClient: 'node',
      choices: [],
    });
    expect(loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_MODEL: 'llama3.2' }, cwd).model).toEqual({
      kind: 'openai',
      apiKey: undefined,
      baseURL: 'http://localhost:11434/v1',
      model: 'llama3.2',
      httpClient: 'node',
      choices: [],
    });
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x', UPSTREAM_HTTP_CLIENT: 'fetch' }, cwd).model).toMatchObject({ httpClient: 'fetch' });
  });

  it('reads OPENAI_MODELS as the models conversations may choose: trimmed, without repeats', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_MODELS: ' gpt-4o, gpt-4o-mini,,gpt-4o ' }, cwd).model).toMatchObject({ choices: ['gpt-4o', 'gpt-4o-mini'] });
    expect(() => loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_MODELS: 'x'.repeat(201) }, cwd)).toThrow(/OPENAI_MODELS/);
  });

  it.each([
    ['data/x.db', { type: 'sqlite', path: '/srv/chat/data/x.db' }],
    ['/var/lib/chat.db', { type: 'sqlite', path: '/var/lib/chat.db' }],
    ['sqlite:rel/chat.db', { type: 'sqlite', path: '/srv/chat/rel/chat.db' }],
    ['sqlite:///abs/chat.db', { type: 'sqlite', path: '/abs/chat.db' }],
    ['postgres://u:p@127.0.0.1:5432/chat', { type: 'postgres', url: 'postgres://u:p@127.0.0.1:5432/chat' }],
    ['postgresql://127.0.0.1/chat', { type: 'postgres', url: 'postgresql://127.0.0.1/chat' }],
  ])('reads DATABASE_URL %s', (url, expected) => {
    expect(loadConfig({ DATABASE_URL: url }, cwd).database).toEqual(expected);
  });

  it('reads CORS_ORIGINS as a list of origins', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173/' }, cwd).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    expect(loadConfig({}, cwd).corsOrigins).toEqual([]);
  });

  it('reads what answers do without their client: ANSWER_ON_DISCONNECT, ANSWER_MAX_DURATION_MS, ANSWER_CHECKPOINT_MS', () => {
    expect(loadConfig({}, cwd)).toMatchObject({ answerOnDisconnect: 'continue', answerMaxDurationMs: 600_000, answerCheckpointMs: 1000 });
    expect(
      loadConfig({ ANSWER_ON_DISCONNECT: 'ABORT', ANSWER_MAX_DURATION_MS: '5000', ANSWER_CHECKPOINT_MS: '0' }, cwd),
    ).toMatchObject({ answerOnDisconnect: 'abort', answerMaxDurationMs: 5000, answerCheckpointMs: 0 });
    expect(() => loadConfig({ ANSWER_ON_DISCONNECT: 'later' }, cwd)).toThrow(/ANSWER_ON_DISCONNECT must be continue or abort/);
  });

  it('reads REDIS_URL, without echoing a bad one (it may hold a password)', () => {
    expect(loadConfig({}, cwd).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://:pw@127.0.0.1:6380/0' }, cwd).redisUrl).toBe('redis://:pw@127.0.0.1:6380/0');
    expect(() => loadConfig({ REDIS_URL: 'http://secret@host' }, cwd)).toThrow(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    try {
      loadConfig({ REDIS_URL: 'http://secret@host' }, cwd);
    } catch (error) {
      expect(String(error)).not.toContain('secret');
    }
  });

  it('reads LOG_FORMAT (json off a terminal, as under jest), LOG_LEVEL (Nest’s `log` and pino’s `trace` too) and SHUTDOWN_DELAY_MS', () => {
    expect(loadConfig({}, cwd)).toMatchObject({ log: { format: process.stdout.isTTY ? 'pretty' : 'json', level: 'info' }, shutdownDelayMs: 0 });
    expect(loadConfig({ LOG_FORMAT: 'Pretty', LOG_LEVEL: 'DEBUG', SHUTDOWN_DELAY_MS: '5000' }, cwd)).toMatchObject({
      log: { format: 'pretty', level: 'debug' },
      shutdownDelayMs: 5000,
    });
    expect(loadConfig({ LOG_LEVEL: 'log' }, cwd).log.level).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'trace' }, cwd).log.level).toBe('verbose');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' }, cwd)).toThrow(/LOG_FORMAT must be json or pretty/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' }, cwd)).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, verbose/);
    expect(() => loadConfig({ SHUTDOWN_DELAY_MS: '-1' }, cwd)).toThrow(/SHUTDOWN_DELAY_MS/);
  });

  it('keeps SYSTEM_PROMPT as given', () => {
    expect(loadConfig({ SYSTEM_PROMPT: 'Be brief.' }, cwd).systemPrompt).toBe('Be brief.');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ CHAT_DEBOUNCE_MS: '-1' }, 'CHAT_DEBOUNCE_MS'],
    [{ MAX_PROMPT_CHARS: '0' }, 'MAX_PROMPT_CHARS'],
    [{ MAX_PROMPT_CHARS: '1.5' }, 'MAX_PROMPT_CHARS'],
    [{ OPENAI_BASE_URL: 'localhost:11434' }, 'OPENAI_BASE_URL'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS'],
    [{ ALLOW_REMOTE_IMAGES: 'maybe' }, 'ALLOW_REMOTE_IMAGES'],
    [{ UPSTREAM_RETRIES: '11' }, 'UPSTREAM_RETRIES'],
    [{ AUTH_MODE: 'open' }, 'AUTH_MODE'],
    [{ AUTH_MODE: 'cookie' }, 'SESSION_SECRET'],
    [{ AUTH_MODE: 'cookie', SESSION_SECRET: 'short' }, 'SESSION_SECRET'],
    [{ AUTH_MODE: 'token' }, 'API_TOKENS'],
    [{ API_TOKENS: 'abc,def' }, 'API_TOKENS'],
    [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY'],
    [{ MAX_STREAMS_PER_CLIENT: '-1' }, 'MAX_STREAMS_PER_CLIENT'],
    [{ UPSTREAM_HTTP_CLIENT: 'curl' }, 'UPSTREAM_HTTP_CLIENT'],
  ])('refuses %p with a message naming %s', (env, name) => {
    expect(() => loadConfig(env, cwd)).toThrow(ConfigError);
    expect(() => loadConfig(env, cwd)).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('names the model server in the start-up log without its credentials', () => {
    const model = loadConfig({ OPENAI_BASE_URL: 'https://svcuser:S3cretPassw0rd@llm.internal:8443/v1?api-key=Qu3rySecret&x=1', OPENAI_MODEL: 'm' }, cwd).model;
    expect(describeModel(model)).toBe('m via https://llm.internal:8443/v1?api-key=***&x=***');
    expect(() => loadConfig({ OPENAI_BASE_URL: 'htp://svcuser:S3cretPassw0rd@llm.internal/v1' }, cwd)).toThrow('OPENAI_BASE_URL must be an http:// or https:// URL (got a htp: URL)');
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', CHAT_DEBOUNCE_MS: 'y' }, cwd);
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });

  it('reads access settings: single-owner by default, loopback host names on a loopback HOST', () => {
    const defaults = loadConfig({}, cwd);
    expect(defaults.access).toEqual({ mode: 'none', sessionSecret: undefined, apiTokens: [] });
    expect(defaults.allowedHosts).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(defaults.rateLimits).toEqual({ requestsPerMinute: 600, answersPerMinute: 30 });
    expect(defaults.maxStreamsPerClient).toBe(4);
    expect(defaults.trustProxy).toBe(false);

    const exposed = loadConfig(
      {
        HOST: '0.0.0.0',
        AUTH_MODE: 'Token',
        API_TOKENS: ' tok-0123456789abcdef , tok-fedcba9876543210 ',
        TRUST_PROXY: 'loopback',
        ALLOWED_HOSTS: 'Chat.Example.com,[::1]',
      },
      cwd,
    );
    expect(exposed.access).toEqual({ mode: 'token', sessionSecret: undefined, apiTokens: ['tok-0123456789abcdef', 'tok-fedcba9876543210'] });
    expect(exposed.trustProxy).toBe('loopback');
    expect(exposed.allowedHosts).toEqual(['chat.example.com', '::1']);
    expect(loadConfig({ HOST: '0.0.0.0' }, cwd).allowedHosts).toEqual([]);
    expect(loadConfig({ ALLOWED_HOSTS: '*' }, cwd).allowedHosts).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: '2' }, cwd).trustProxy).toBe(2);
  });
});
