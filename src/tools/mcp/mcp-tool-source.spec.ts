import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { McpHttpTestServer, TEST_PNG_BASE64 } from '../../../test/support/mcp-http-server.js';
import { type McpConfigFile, stdioTestServerEntry, writeMcpConfig } from '../../../test/support/mcp-config-file.js';
import { type AppConfig, ConfigError } from '../../config/app-config.js';
import { type ToolCallContext, ToolError } from '../tool-source.js';
import { McpToolSource, type McpToolSourceOptions } from './mcp-tool-source.js';

// The driver against real MCP servers built with the SDK (test/support): over Streamable HTTP, the
// older HTTP+SSE transport and stdio, without the Nest app (the lead's e2e tests cover that).

const HEADER_SECRET = 'Bearer sekret-token-0123456789';
const QUERY_SECRET = 'query-secret-0123456789';
const ENV_SECRET = 'stdio-secret-0123456789';

const logs: string[] = [];
const collector: LoggerService = {
  log: (message: unknown) => logs.push(`log: ${String(message)}`),
  warn: (message: unknown) => logs.push(`warn: ${String(message)}`),
  error: (message: unknown) => logs.push(`error: ${String(message)}`),
  debug: (message: unknown) => logs.push(`debug: ${String(message)}`),
  verbose: (message: unknown) => logs.push(`verbose: ${String(message)}`),
};
beforeAll(() => {
  Logger.overrideLogger(collector);
});
afterAll(() => {
  Logger.overrideLogger(new ConsoleLogger());
  // Whatever a test did, no secret of a config reached a log line.
  for (const secret of [HEADER_SECRET, 'sekret-token-0123456789', QUERY_SECRET, ENV_SECRET]) {
    expect(logs.filter((line) => line.includes(secret))).toEqual([]);
  }
});

const sources: McpToolSource[] = [];
const servers: McpHttpTestServer[] = [];
const files: McpConfigFile[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.onApplicationShutdown()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const file of files.splice(0)) file.remove();
});

const FAST: McpToolSourceOptions = { reconnectInitialMs: 100, reconnectMaxMs: 500, pingTimeoutMs: 2_000, connectTimeoutMs: 5_000 };

function configFor(path: string | undefined, timeoutMs = 20_000): AppConfig {
  return { tools: { enabled: [], maxSteps: 8, timeoutMs, resultMaxBytes: 16_384, mcpConfigPath: path } } as unknown as AppConfig;
}

/** A source for these MCP_CONFIG entries, started as Nest starts it (bootstrap awaited). */
async function startSource(mcpServers: Record<string, unknown>, options: McpToolSourceOptions = {}, timeoutMs?: number): Promise<McpToolSource> {
  const file = writeMcpConfig(mcpServers);
  files.push(file);
  const source = new McpToolSource(configFor(file.path, timeoutMs), { ...FAST, ...options });
  sources.push(source);
  await source.onApplicationBootstrap();
  return source;
}

async function startServer(options: Parameters<typeof McpHttpTestServer.start>[0] = {}): Promise<McpHttpTestServer> {
  const server = await McpHttpTestServer.start(options);
  servers.push(server);
  return server;
}

function context(signal: AbortSignal = new AbortController().signal): ToolCallContext {
  return { toolCallId: 'call_1', ownerId: 'owner', conversationId: 'conversation', signal };
}

const names = (source: McpToolSource) => source.definitions().map((tool) => tool.name).sort();
const stateOf = (source: McpToolSource, server: string) => source.status().find((status) => status.server === server)?.state;

/** Polls `check` until it holds (10 s at most): for what happens in the background, such as a reconnection. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function toolError(promise: Promise<unknown>): Promise<ToolError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

describe('McpToolSource over Streamable HTTP', () => {
  it('offers each tool as <server>_<tool> with its description and an object schema, sending the configured headers', async () => {
    const server = await startServer({ requiredHeaders: { Authorization: HEADER_SECRET } });
    const source = await startSource({ docs: { url: server.url, headers: { Authorization: HEADER_SECRET } } });

    expect(names(source)).toEqual(['docs_add', 'docs_big', 'docs_echo', 'docs_fail', 'docs_media', 'docs_slow', 'docs_weather']);
    const add = source.definitions().find((tool) => tool.name === 'docs_add')!;
    expect(add.description).toBe('Adds two numbers.');
    expect(add.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    expect(add.parameters).not.toHaveProperty('$schema');
    // A tool without arguments still gets an object schema with properties.
    expect(source.definitions().find((tool) => tool.name === 'docs_media')!.parameters).toMatchObject({ type: 'object', properties: {} });
    expect(source.status()).toEqual([{ server: 'docs', state: 'connected', transport: 'streamable-http', tools: expect.arrayContaining(['docs_add']) }]);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((request) => request.headers.authorization === HEADER_SECRET)).toBe(true);
    expect(logs).toContainEqual(expect.stringMatching(/MCP server "docs" connected \(http:\/\/127\.0\.0\.1:\d+\/mcp, streamable-http, 7 tools\)/));
  });

  it('calls a tool and gives its text; an isError result or a refused call is a ToolError, and the connection stays', async () => {
    const server = await startServer();
    const source = await startSource({ docs: { url: server.url } });

    await expect(source.call('docs_add', { a: 2, b: 3 }, context())).resolves.toBe('5');
    expect(server.callsOf('add').map((call) => call.args)).toEqual([{ a: 2, b: 3 }]);
    await expect(source.call('docs_echo', { text: 'héllo' }, context())).resolves.toBe('héllo');

    expect((await toolError(source.call('docs_fail', { message: 'the disk is full' }, context()))).message).toBe('the disk is full');
    // Arguments the server refuses (the registry validates first; a server may still say no).
    expect((await toolError(source.call('docs_add', { a: 'two' }, context()))).message).toContain('Input validation error');
    expect((await toolError(source.call('docs_nothing', {}, context()))).message).toContain('No MCP tool is called "docs_nothing"');
    await expect(source.call('docs_add', { a: 1, b: 1 }, context())).resolves.toBe('2');
    expect(stateOf(source, 'docs')).toBe('connected');
  });

  it('joins text parts, summarises images and resources, gives structured content when there is no text, and long texts whole', async () => {
    const server = await startServer();
    const source = await startSource({ docs: { url: server.url } });

    const pngBytes = Buffer.from(TEST_PNG_BASE64, 'base64').length;
    await expect(source.call('docs_media', {}, context())).resolves.toBe(
      `a picture:\n[image: image/png, ${pngBytes} bytes]\n[resource link: file:///docs/readme.md]\n[resource: file:///docs/note.txt]\nthe note`,
    );
    await expect(source.call('docs_weather', {}, context())).resolves.toEqual({ temperature: 21.5, unit: 'C' });
    // The cap is the registry's: the driver gives the whole result.
    expect(((await source.call('docs_big', { bytes: 1_000_000 }, context())) as string).length).toBe(1_000_000);
  });

  it('stops a slow call when the signal aborts: the call rejects with the reason and the server sees the cancellation', async () => {
    const server = await startServer();
    const source = await startSource({ docs: { url: server.url } });

    const controller = new AbortController();
    const call = source.call('docs_slow', { ms: 60_000 }, context(controller.signal));
    await waitFor(() => server.callsOf('slow').length === 1, 'the slow call to arrive');
    const reason = new Error('stopped by the test');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await server.callsOf('slow')[0].ended;
    expect(server.callsOf('slow')[0].aborted).toBe(true);
    // Cancelling one call leaves the connection as it was.
    await expect(source.call('docs_add', { a: 1, b: 2 }, context())).resolves.toBe('3');
  });

  it("gives up on a call after AGENT_TOOL_TIMEOUT_MS (the SDK's own 60 s never cuts first) and cancels it on the server", async () => {
    const server = await startServer();
    const source = await startSource({ docs: { url: server.url } }, {}, 300);

    expect((await toolError(source.call('docs_slow', { ms: 60_000 }, context()))).message).toBe('The MCP server "docs" did not answer within 300 ms.');
    await server.callsOf('slow')[0].ended;
    expect(server.callsOf('slow')[0].aborted).toBe(true);
    await expect(source.call('docs_add', { a: 1, b: 2 }, context())).resolves.toBe('3');
  });

  it('follows notifications/tools/list_changed', async () => {
    const server = await startServer();
    const source = await startSource({ docs: { url: server.url } });
    await waitFor(() => server.openEventStreams === 1, "the client's event stream");

    server.addTool('news', 'nothing new today');
    await waitFor(() => names(source).includes('docs_news'), 'docs_news to be offered');
    await expect(source.call('docs_news', {}, context())).resolves.toBe('nothing new today');
  });

  it('a server down at start: start-up goes on with the others, and its tools appear once it is up', async () => {
    const up = await startServer();
    const later = await startServer();
    await later.stop();
    const source = await startSource({ up: { url: up.url }, later: { url: later.url } });

    expect(names(source).every((name) => name.startsWith('up_'))).toBe(true);
    expect(stateOf(source, 'later')).toBe('connecting');
    expect(logs).toContainEqual(expect.stringMatching(/warn: MCP server "later" \(http:\/\/127\.0\.0\.1:\d+\/mcp\) cannot be reached: fetch failed \(ECONNREFUSED\); retrying in the background/));
    await toolError(source.call('later_add', { a: 1, b: 2 }, context()));

    await later.restart();
    await waitFor(() => names(source).includes('later_add'), 'later_add to be offered');
    await expect(source.call('later_add', { a: 1, b: 2 }, context())).resolves.toBe('3');
    await expect(source.call('up_add', { a: 2, b: 2 }, context())).resolves.toBe('4');
  });

  it('a server that goes down later: its calls answer with a tool error naming it (no secrets), its tools stay, and it is reconnected', async () => {
    const server = await startServer({ requiredHeaders: { Authorization: HEADER_SECRET } });
    const url = `${server.url}?api_key=${QUERY_SECRET}`;
    const source = await startSource({ docs: { url, headers: { Authorization: HEADER_SECRET } } });
    await expect(source.call('docs_add', { a: 1, b: 2 }, context())).resolves.toBe('3');

    await server.stop();
    const first = await toolError(source.call('docs_add', { a: 1, b: 2 }, context()));
    expect(first.message).toContain('MCP server "docs"');
    await waitFor(() => stateOf(source, 'docs') === 'reconnecting', 'the source to see the server gone');
    const meanwhile = await toolError(source.call('docs_add', { a: 1, b: 2 }, context()));
    expect(meanwhile.message).toContain('The MCP server "docs" is not reachable right now');
    for (const message of [first.message, meanwhile.message]) {
      expect(message).not.toContain(QUERY_SECRET);
      expect(message).not.toContain('sekret-token');
    }
    expect(names(source)).toContain('docs_add');
    expect(logs).toContainEqual(expect.stringMatching(/warn: MCP server "docs" \(http:\/\/127\.0\.0\.1:\d+\/mcp\?api_key=\*\*\*\) went away/));

    await server.restart();
    await waitFor(() => stateOf(source, 'docs') === 'connected', 'the reconnection');
    await expect(source.call('docs_add', { a: 2, b: 3 }, context())).resolves.toBe('5');
    expect(logs).toContainEqual(expect.stringMatching(/log: MCP server "docs" is back/));
  });

  it('a server that never answers holds start-up no longer than the boot wait, and the others are there', async () => {
    const silent = await silentTcpServer();
    try {
      const server = await startServer();
      const source = await startSource({ docs: { url: server.url }, silent: { url: `http://127.0.0.1:${silent.port}/mcp` } }, { bootWaitMs: 2_000 });

      expect(names(source)).toContain('docs_add');
      expect(names(source).some((name) => name.startsWith('silent_'))).toBe(false);
      expect(stateOf(source, 'silent')).toBe('connecting');
      expect(logs).toContainEqual('warn: MCP: not connected within 2000 ms, so not in the first answers\' tools: silent; still trying in the background');
    } finally {
      await Promise.all(sources.splice(0).map((source) => source.onApplicationShutdown()));
      silent.close();
    }
  });
});

describe('McpToolSource over the older HTTP+SSE transport', () => {
  it('falls back to SSE when the server refuses Streamable HTTP with a 4xx, and works the same', async () => {
    const server = await startServer({ transport: 'sse' });
    const source = await startSource({ legacy: { url: server.url } });

    expect(source.status()).toEqual([{ server: 'legacy', state: 'connected', transport: 'sse', tools: expect.arrayContaining(['legacy_add']) }]);
    expect(server.requests.slice(0, 2).map((request) => `${request.method} ${request.path}`)).toEqual(['POST /sse', 'GET /sse']);
    await expect(source.call('legacy_add', { a: 20, b: 22 }, context())).resolves.toBe('42');
    expect((await toolError(source.call('legacy_fail', {}, context()))).message).toBe('the fail tool always fails');
  });

  it('"type": "sse" goes straight to SSE; "type": "http" does not fall back', async () => {
    const legacy = await startServer({ transport: 'sse' });
    const other = await startServer({ transport: 'sse' });
    const source = await startSource({ legacy: { url: legacy.url, type: 'sse' }, strict: { url: other.url, type: 'http' } });

    expect(legacy.requests.filter((request) => request.path === '/sse').map((request) => request.method)).toEqual(['GET']);
    expect(other.requests.filter((request) => request.method === 'GET')).toEqual([]);
    expect(stateOf(source, 'legacy')).toBe('connected');
    expect(stateOf(source, 'strict')).toBe('connecting');
    expect(names(source).every((name) => name.startsWith('legacy_'))).toBe(true);
    await expect(source.call('legacy_echo', { text: 'old but fine' }, context())).resolves.toBe('old but fine');
  });
});

describe('McpToolSource over stdio', () => {
  it('runs the command with only its own environment and the basics, and calls its tools', async () => {
    process.env.MCP_TEST_APP_SECRET = 'the app keeps this';
    try {
      const source = await startSource({ local: stdioTestServerEntry({ GREETING: 'hello from the config' }) });
      expect(names(source)).toEqual(['local_add', 'local_big', 'local_calls', 'local_echo', 'local_env', 'local_fail', 'local_pid', 'local_slow', 'local_stderr']);
      expect(source.status()[0]).toMatchObject({ state: 'connected', transport: 'stdio' });

      await expect(source.call('local_add', { a: 40, b: 2 }, context())).resolves.toBe('42');
      await expect(source.call('local_env', { name: 'GREETING' }, context())).resolves.toBe('hello from the config');
      await expect(source.call('local_env', { name: 'MCP_TEST_APP_SECRET' }, context())).resolves.toBe('(unset)');
      await expect(source.call('local_env', { name: 'PATH' }, context())).resolves.not.toBe('(unset)');
      expect((await toolError(source.call('local_fail', { message: 'no' }, context()))).message).toBe('no');
    } finally {
      delete process.env.MCP_TEST_APP_SECRET;
    }
  });

  it("reads the child's stderr, so a chatty server never blocks and nothing of it reaches the log", async () => {
    const source = await startSource({ local: stdioTestServerEntry() });
    await expect(source.call('local_stderr', { bytes: 1_000_000 }, context())).resolves.toBe('wrote 1000000 bytes');
    await expect(source.call('local_add', { a: 1, b: 1 }, context())).resolves.toBe('2');
    expect(logs.filter((line) => line.includes('eeeeeeeeee') || line.includes('test-stdio-server: ready'))).toEqual([]);
  });

  it('aborting a call cancels it in the child', async () => {
    const source = await startSource({ local: stdioTestServerEntry() });
    const callsSeen = async () => JSON.parse((await source.call('local_calls', {}, context())) as string) as { tool: string; aborted: boolean }[];

    const controller = new AbortController();
    const call = source.call('local_slow', { ms: 60_000 }, context(controller.signal));
    await waitFor(async () => (await callsSeen()).some((seen) => seen.tool === 'slow'), 'the slow call to arrive');
    controller.abort(new Error('stop'));
    await expect(call).rejects.toThrow('stop');
    await waitFor(async () => (await callsSeen()).some((seen) => seen.tool === 'slow' && seen.aborted), 'the child to see the cancellation');
  });

  it('a child that dies is started again; meanwhile its calls answer with a tool error', async () => {
    const source = await startSource({ local: stdioTestServerEntry() });
    const pid = Number(await source.call('local_pid', {}, context()));

    const slow = source.call('local_slow', { ms: 60_000 }, context());
    process.kill(pid, 'SIGKILL');
    expect((await toolError(slow)).message).toContain('MCP server "local"');
    await waitFor(() => stateOf(source, 'local') === 'connected', 'a new child');
    const newPid = Number(await source.call('local_pid', {}, context()));
    expect(newPid).not.toBe(pid);
    expect(logs).toContainEqual(expect.stringMatching(/warn: MCP server "local" \(command .*node\) went away/));
  });

  it('a command that cannot start is logged with the end of its stderr (secrets hidden), and no tools are offered', async () => {
    const source = await startSource({
      broken: stdioTestServerEntry({ MCP_TEST_EXIT_AT_START: '1', API_KEY: ENV_SECRET }),
      missing: { command: '/nonexistent/mcp-server' },
    });
    expect(source.definitions()).toEqual([]);
    expect(stateOf(source, 'broken')).toBe('connecting');
    expect(logs).toContainEqual(expect.stringMatching(/warn: MCP server "broken" \(command .*node\) cannot be reached: .*its last stderr: test-stdio-server: the key \*\*\* was refused/));
    expect(logs).toContainEqual(expect.stringMatching(/warn: MCP server "missing" \(command \/nonexistent\/mcp-server\) cannot be reached: .*ENOENT/));
  });
});

describe('McpToolSource start and shutdown', () => {
  it('without MCP_CONFIG offers nothing and starts nothing', async () => {
    const source = new McpToolSource(configFor(undefined));
    await source.onApplicationBootstrap();
    expect(source.definitions()).toEqual([]);
    expect(source.status()).toEqual([]);
    await source.onApplicationShutdown();
  });

  it('a bad MCP_CONFIG stops start-up with a ConfigError naming the file', () => {
    const file = writeMcpConfig({ docs: { url: 'ftp://example.com', headers: { Authorization: HEADER_SECRET } } });
    files.push(file);
    let error: unknown;
    try {
      new McpToolSource(configFor(file.path));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`MCP_CONFIG (${file.path}): mcpServers.docs: "url" must be an http:// or https:// URL`);
    expect((error as ConfigError).message).not.toContain('sekret');
  });

  it('shutdown closes everything: the child exits, the HTTP session is ended, retries stop, calls answer with a tool error', async () => {
    const server = await startServer();
    const down = await startServer();
    await down.stop();
    const source = await startSource({ docs: { url: server.url }, local: stdioTestServerEntry(), down: { url: down.url } });
    const pid = Number(await source.call('local_pid', {}, context()));
    expect(server.sessionCount).toBe(1);

    await source.onApplicationShutdown();
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(server.sessionCount).toBe(0);
    expect(source.status().map((status) => status.state)).toEqual(['closed', 'closed', 'closed']);
    expect(source.definitions()).toEqual([]);
    await toolError(source.call('docs_add', { a: 1, b: 2 }, context()));
  });
});

/** Accepts connections and never says a word, as a stuck server or a black-holing proxy does. */
async function silentTcpServer(): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
