import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type CallToolResult, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

/**
 * A real MCP server for tests and the bench (no jest in here): the SDK's own McpServer, one per
 * session, over Streamable HTTP at `/mcp`, or with `transport: 'sse'` over the older HTTP+SSE
 * transport only (`GET /sse`, `POST /messages`; a POST to `/sse` gets 405, as such servers answer).
 *
 * Tools (the stdio server, mcp-stdio-server.mjs, has the same): `add` {a, b} → the sum; `echo`
 * {text} → the text; `fail` {message?} → an `isError` result; `slow` {ms} → "slept <ms> ms" after
 * `ms`, or stops when the call is cancelled; `big` {bytes} → that many "x"; `media` → a text, an
 * image, a resource link and an embedded resource; `weather` → structured content only.
 */
export type McpTestTransport = 'streamable-http' | 'sse';

export interface McpHttpTestServerOptions {
  /** Default Streamable HTTP. */
  readonly transport?: McpTestTransport;
  /** Default: a free loopback port. */
  readonly port?: number;
  /** Every request must carry these headers with these values, else 401 (to see a config's headers arrive). */
  readonly requiredHeaders?: Readonly<Record<string, string>>;
  /** The server's name in its initialize answer. Default `test-server`. */
  readonly name?: string;
}

export interface McpTestCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  /** True once the call was cancelled before it ended: by the client (`notifications/cancelled`), its connection closing, or `stop()`. */
  aborted: boolean;
  /** Resolves when the tool's handler has ended, answered or cancelled. */
  readonly ended: Promise<void>;
}

export interface McpTestRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** A 1×1 PNG: what `media` returns as its image. */
export const TEST_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface Session {
  readonly transport: StreamableHTTPServerTransport | SSEServerTransport;
  readonly server: McpServer;
}

export class McpHttpTestServer {
  /** Every tool call received, in order. */
  readonly calls: McpTestCall[] = [];
  /** Every HTTP request received, in order. */
  readonly requests: McpTestRequest[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly extraTools = new Map<string, string>();
  private readonly sockets = new Set<Socket>();
  private openEventStreamCount = 0;
  private http: Server | undefined;
  private stopping = new AbortController();

  private constructor(
    private port: number,
    readonly transport: McpTestTransport,
    private readonly requiredHeaders: Readonly<Record<string, string>>,
    private readonly name: string,
  ) {}

  static async start(options: McpHttpTestServerOptions = {}): Promise<McpHttpTestServer> {
    const server = new McpHttpTestServer(options.port ?? 0, options.transport ?? 'streamable-http', options.requiredHeaders ?? {}, options.name ?? 'test-server');
    await server.listen();
    return server;
  }

  /** The URL a client is given: `…/mcp`, or `…/sse` for the SSE transport. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/${this.transport === 'sse' ? 'sse' : 'mcp'}`;
  }

  get listeningPort(): number {
    return this.port;
  }

  get running(): boolean {
    return this.http !== undefined;
  }

  /** MCP sessions open now (a client that ended its session with DELETE, or whose SSE stream closed, is gone). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Server-to-client streams open now: Streamable HTTP's `GET /mcp` streams, or SSE connections. A
   * notification sent while a client has none is lost, so wait for one before `addTool`.
   */
  get openEventStreams(): number {
    return this.openEventStreamCount;
  }

  /** The tool calls received for `tool`. */
  callsOf(tool: string): McpTestCall[] {
    return this.calls.filter((call) => call.tool === tool);
  }

  /**
   * Adds a tool (no arguments, answers `text`) to every session, now and later; connected clients
   * get `notifications/tools/list_changed`.
   */
  addTool(name: string, text: string): void {
    this.extraTools.set(name, text);
    for (const { server } of this.sessions.values()) this.registerExtraTool(server, name, text);
  }

  /** Goes down as a crashed server does: every connection cut, sessions forgotten, the port closed. */
  async stop(): Promise<void> {
    const http = this.http;
    if (http === undefined) return;
    this.http = undefined;
    this.stopping.abort();
    for (const socket of this.sockets) socket.destroy();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(({ server }) => server.close().catch(() => undefined)));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  /** Listens again on the same port, with no sessions (a client must initialize again). */
  async restart(): Promise<void> {
    if (this.http !== undefined) return;
    this.stopping = new AbortController();
    await this.listen();
  }

  private async listen(): Promise<void> {
    const http = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      });
    });
    http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    http.listen(this.port, '127.0.0.1');
    await once(http, 'listening');
    this.port = (http.address() as AddressInfo).port;
    this.http = http;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers });
    for (const [header, value] of Object.entries(this.requiredHeaders)) {
      if (req.headers[header.toLowerCase()] !== value) return json(res, 401, { error: 'unauthorized' });
    }
    if (this.transport === 'streamable-http') return this.handleStreamableHttp(req, res, url);
    return this.handleSse(req, res, url);
  }

  private async handleStreamableHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname !== '/mcp') return json(res, 404, { error: 'not found' });
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      if (session === undefined) return json(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      if (req.method === 'GET') this.countEventStream(res);
      return (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return json(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no session; initialize first' }, id: null });
    }
    const server = this.mcpServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  private async handleSse(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/sse' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      const server = this.mcpServer();
      this.sessions.set(transport.sessionId, { transport, server });
      this.countEventStream(res);
      res.on('close', () => this.sessions.delete(transport.sessionId));
      await server.connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const session = this.sessions.get(url.searchParams.get('sessionId') ?? '');
      if (session === undefined) return json(res, 404, { error: 'Session not found' });
      return (session.transport as SSEServerTransport).handlePostMessage(req, res, await readJson(req));
    }
    if (url.pathname === '/sse') return json(res, 405, { error: 'Method not allowed' });
    return json(res, 404, { error: 'not found' });
  }

  private countEventStream(res: ServerResponse): void {
    this.openEventStreamCount++;
    res.on('close', () => this.openEventStreamCount--);
  }

  private mcpServer(): McpServer {
    const server = new McpServer({ name: this.name, version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    registerTestTools(server, this.calls, () => this.stopping.signal);
    for (const [name, text] of this.extraTools) this.registerExtraTool(server, name, text);
    return server;
  }

  private registerExtraTool(server: McpServer, name: string, text: string): void {
    server.registerTool(name, { description: `Answers "${text}".` }, () => ({ content: [{ type: 'text', text }] }));
  }
}

/** The tools both test servers offer (see the class comment). */
function registerTestTools(server: McpServer, calls: McpTestCall[], stopping: () => AbortSignal): void {
  const record = (tool: string, args: Record<string, unknown>, signal: AbortSignal) => {
    let end = () => undefined as void;
    const call: McpTestCall = { tool, args, aborted: false, ended: new Promise<void>((resolve) => (end = resolve)) };
    calls.push(call);
    signal.addEventListener('abort', () => (call.aborted = true), { once: true });
    return { call, end };
  };
  const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
  const simple = <T extends Record<string, unknown>>(tool: string, answer: (args: T) => CallToolResult) => (args: T, extra: { signal: AbortSignal }) => {
    const { end } = record(tool, args, extra.signal);
    try {
      return answer(args);
    } finally {
      end();
    }
  };

  server.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } }, simple('add', ({ a, b }: { a: number; b: number }) => text(String(a + b))));
  server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string() } }, simple('echo', (args: { text: string }) => text(args.text)));
  server.registerTool(
    'fail',
    { description: 'Always fails (an isError result).', inputSchema: { message: z.string().optional() } },
    simple('fail', ({ message }: { message?: string }) => ({ isError: true, content: [{ type: 'text', text: message ?? 'the fail tool always fails' }] })),
  );
  server.registerTool('big', { description: 'Returns a text of `bytes` characters.', inputSchema: { bytes: z.number().int().min(0) } }, simple('big', ({ bytes }: { bytes: number }) => text('x'.repeat(bytes))));
  server.registerTool(
    'media',
    { description: 'Returns a text, an image, a resource link and an embedded resource.', inputSchema: {} },
    simple('media', () => ({
      content: [
        { type: 'text', text: 'a picture:' },
        { type: 'image', data: TEST_PNG_BASE64, mimeType: 'image/png' },
        { type: 'resource_link', uri: 'file:///docs/readme.md', name: 'readme' },
        { type: 'resource', resource: { uri: 'file:///docs/note.txt', mimeType: 'text/plain', text: 'the note' } },
      ],
    })),
  );
  server.registerTool(
    'weather',
    { description: 'Returns structured content only.', inputSchema: {}, outputSchema: { temperature: z.number(), unit: z.string() } },
    simple('weather', () => ({ content: [], structuredContent: { temperature: 21.5, unit: 'C' } })),
  );
  server.registerTool('slow', { description: 'Waits `ms` milliseconds; stops when cancelled.', inputSchema: { ms: z.number().int().min(0) } }, async ({ ms }, extra) => {
    const { end } = record('slow', { ms }, extra.signal);
    try {
      const cancelled = AbortSignal.any([extra.signal, stopping()]);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        cancelled.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('cancelled'))), { once: true });
      });
      return text(`slept ${ms} ms`);
    } finally {
      end();
    }
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
