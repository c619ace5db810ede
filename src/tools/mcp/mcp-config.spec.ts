import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../config/app-config.js';
import { entrySecrets, type McpServerEntry, readMcpConfig, redact } from './mcp-config.js';

describe('readMcpConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-config-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (content: unknown): string => {
    const path = join(dir, 'mcp.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  /** The problems of the ConfigError reading `content` throws. */
  const problems = (content: unknown, env: Record<string, string> = {}): string[] => {
    const path = file(content);
    try {
      readMcpConfig(path, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('no ConfigError');
  };

  it('reads HTTP and stdio entries in the common format, with optional type hints', () => {
    const path = file({
      mcpServers: {
        docs: { url: 'https://docs.example.com/mcp', headers: { Authorization: 'Bearer t0ken-abcdef' } },
        legacy: { type: 'sse', url: 'http://127.0.0.1:8000/sse' },
        modern: { type: 'streamable-http', url: 'http://127.0.0.1:8001/mcp' },
        vscode: { type: 'http', url: 'http://127.0.0.1:8002/mcp' },
        files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' }, cwd: 'servers' },
        typed: { type: 'stdio', command: 'uvx', args: ['mcp-server-time'] },
      },
      globalShortcut: 'Ctrl+Space',
    });
    expect(readMcpConfig(path, {})).toEqual({
      disabled: [],
      servers: [
        { kind: 'http', name: 'docs', url: 'https://docs.example.com/mcp', headers: { Authorization: 'Bearer t0ken-abcdef' }, transport: 'auto' },
        { kind: 'http', name: 'legacy', url: 'http://127.0.0.1:8000/sse', headers: {}, transport: 'sse' },
        { kind: 'http', name: 'modern', url: 'http://127.0.0.1:8001/mcp', headers: {}, transport: 'streamable-http' },
        { kind: 'http', name: 'vscode', url: 'http://127.0.0.1:8002/mcp', headers: {}, transport: 'streamable-http' },
        // A relative cwd is the config file's folder's.
        { kind: 'stdio', name: 'files', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' }, cwd: join(dir, 'servers') },
        { kind: 'stdio', name: 'typed', command: 'uvx', args: ['mcp-server-time'], env: {}, cwd: undefined },
      ],
    });
  });

  it('expands ${VAR} and ${VAR:-default} from the environment, so keys can stay out of the file', () => {
    const path = file({
      mcpServers: {
        docs: { url: 'https://${DOCS_HOST}/mcp', headers: { Authorization: 'Bearer ${DOCS_TOKEN}' } },
        files: { command: '${NODE_BIN:-node}', args: ['--root=${ROOT:-/srv}'], env: { TOKEN: '${FILES_TOKEN}' } },
      },
    });
    const config = readMcpConfig(path, { DOCS_HOST: 'docs.example.com', DOCS_TOKEN: 'secret-docs-token', FILES_TOKEN: 'secret-files-token' });
    expect(config.servers).toEqual([
      expect.objectContaining({ url: 'https://docs.example.com/mcp', headers: { Authorization: 'Bearer secret-docs-token' } }),
      expect.objectContaining({ command: 'node', args: ['--root=/srv'], env: { TOKEN: 'secret-files-token' } }),
    ]);
    expect(problems({ mcpServers: { docs: { url: 'https://example.com/mcp', headers: { 'X-Key': '${MISSING_KEY}' } } } })).toEqual([
      expect.stringContaining('mcpServers.docs: "headers"."X-Key" uses ${MISSING_KEY}, which is not set'),
    ]);
  });

  it('leaves out entries marked "disabled": true and names them', () => {
    const config = readMcpConfig(file({ mcpServers: { off: { command: 'x', disabled: true }, on: { command: 'y', disabled: false } } }), {});
    expect(config.disabled).toEqual(['off']);
    expect(config.servers.map((server) => server.name)).toEqual(['on']);
  });

  it('a missing or unreadable file, or one that is not JSON, is a ConfigError naming the file (and not quoting it)', () => {
    const missing = join(dir, 'nope.json');
    expect(() => readMcpConfig(missing, {})).toThrow(new ConfigError([`MCP_CONFIG (${missing}) cannot be read: there is no such file`]));
    expect(() => readMcpConfig(dir, {})).toThrow(new ConfigError([`MCP_CONFIG (${dir}) cannot be read: it is a directory`]));

    const [problem] = problems('{"mcpServers": {"docs": {"url": "http://x/mcp", "headers": {"Authorization": "Bearer very-secret-value"}},}}');
    expect(problem).toMatch(new RegExp(`^MCP_CONFIG \\(${join(dir, 'mcp.json').replace(/[.]/g, '\\.')}\\) is not valid JSON`));
    expect(problem).not.toContain('very-secret-value');
  });

  it.each([
    ['an array', [], /must be a JSON object with an "mcpServers" object/],
    ['no mcpServers', { servers: {} }, /must be a JSON object with an "mcpServers" object/],
    ['mcpServers as a list', { mcpServers: [{ url: 'http://x' }] }, /must be a JSON object with an "mcpServers" object/],
  ])('a file that is %s is a ConfigError', (_what, content, message) => {
    expect(problems(content)).toEqual([expect.stringMatching(message)]);
  });

  it('names every entry that is wrong, and what is wrong with it, all at once', () => {
    expect(
      problems({
        mcpServers: {
          'not an object': 'http://x/mcp',
          neither: {},
          both: { url: 'http://x/mcp', command: 'node' },
          ftp: { url: 'ftp://files.example.com' },
          typo: { url: 'http://x/mcp', header: { A: 'b' } },
          kind: { url: 'http://x/mcp', type: 'websocket' },
          mixed: { url: 'http://x/mcp', args: ['a'] },
          stdioUrl: { type: 'stdio', url: 'http://x/mcp' },
          badArgs: { command: 'node', args: 'server.js' },
          numbers: { command: 'node', env: { PORT: 8080 } },
          emptyCommand: { command: ' ' },
          headerName: { url: 'http://x/mcp', headers: { 'Bad Header': 'v' } },
        },
      }),
    ).toEqual([
      expect.stringMatching(/: mcpServers\["not an object"\]: must be an object with "url" \(an HTTP server\) or "command" \(a stdio server\)$/),
      expect.stringMatching(/: mcpServers\.neither: needs "url" \(an HTTP server\) or "command" \(a stdio server\)$/),
      expect.stringMatching(/: mcpServers\.both: has both "url" and "command": give one$/),
      expect.stringMatching(/: mcpServers\.ftp: "url" must be an http:\/\/ or https:\/\/ URL$/),
      expect.stringMatching(/: mcpServers\.typo: unknown key "header" \(allowed: type, url, headers, command, args, env, cwd, disabled\)$/),
      expect.stringMatching(/: mcpServers\.kind: "type" must be one of http, streamable-http, streamableHttp, sse, stdio$/),
      expect.stringMatching(/: mcpServers\.mixed: "args" is for stdio servers \(with "command"\), not with "url"$/),
      expect.stringMatching(/: mcpServers\.stdioUrl: "type": "stdio" needs "command", not "url"$/),
      expect.stringMatching(/: mcpServers\.badArgs: "args" must be an array of strings$/),
      expect.stringMatching(/: mcpServers\.numbers: "env"\."PORT" must be a string$/),
      expect.stringMatching(/: mcpServers\.emptyCommand: "command" must be a non-empty string/),
      expect.stringMatching(/: mcpServers\.headerName: "headers" has "Bad Header", which is not allowed in HTTP header names$/),
    ]);
  });

  it('never repeats a header, environment or URL value in its problems', () => {
    const secret = 'sk-live-0123456789abcdef';
    const found = problems({
      mcpServers: {
        a: { url: `mailto:${secret}`, headers: { Authorization: 123 } },
        b: { url: 'http://x/mcp', headers: { Authorization: `Bearer ${secret}\r\nX-Injected: 1` } },
        c: { command: 'node', env: { KEY: { value: secret } } },
      },
    }).join('\n');
    expect(found).toContain('mcpServers.b: "headers"."Authorization" must be one line');
    expect(found).not.toContain(secret);
  });
});

describe('entrySecrets and redact', () => {
  it('hide header and environment values and the secret parts of a URL, whatever the message', () => {
    const http: McpServerEntry = {
      kind: 'http',
      name: 'docs',
      url: 'https://user:hunter2hunter2@docs.example.com/mcp?api_key=query-key-123&v=1',
      headers: { Authorization: 'Bearer header-token-xyz', 'X-Flag': '1' },
      transport: 'auto',
    };
    const message = 'failed: https://user:hunter2hunter2@docs.example.com/mcp?api_key=query-key-123 with header-token-xyz (Bearer header-token-xyz)';
    const clean = redact(message, entrySecrets(http));
    expect(clean).not.toMatch(/hunter2|query-key-123|header-token-xyz/);
    expect(clean).toContain('docs.example.com/mcp');

    const stdio: McpServerEntry = { kind: 'stdio', name: 'files', command: 'node', args: [], env: { TOKEN: 'env-token-456', DEBUG: '1' }, cwd: undefined };
    // Short values are not hidden: `1` would garble every number in a message.
    expect(redact('env-token-456 said 1', entrySecrets(stdio))).toBe('*** said 1');
  });
});
