import type { Logger } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type ContentBlock, ErrorCode, McpError, type Tool, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { displayUrl } from '../../config/app-config.js';
import { ToolError } from '../tool-source.js';
import { entrySecrets, type McpServerEntry, redact } from './mcp-config.js';
import { contentText, toolResultOutput } from './mcp-tool-result.js';

export type McpTransportKind = 'streamable-http' | 'sse' | 'stdio';

/**
 * `connecting`: not connected yet since start (its tools are not offered); `connected`;
 * `reconnecting`: it was connected and went away (its tools stay offered and answer with a tool error);
 * `closed`: shut down.
 */
export type McpServerState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface McpConnectionTimings {
  /** One connection attempt: the initialize handshake, then each page of `tools/list`. */
  readonly connectTimeoutMs: number;
  /** The ping that checks a connection after a transport error or a failed call. */
  readonly pingTimeoutMs: number;
  /** Reconnect backoff: the first retry at once, then this, doubling up to `reconnectMaxMs`. */
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
}

const CLIENT_INFO = { name: 'nest-chat-app', version: '0.1.0' };
const MAX_TOOL_PAGES = 100;
const STDERR_TAIL_CHARS = 2_000;
const TERMINATE_SESSION_MS = 1_000;

/**
 * One MCP server from MCP_CONFIG, through the SDK's Client: connects, lists its tools (again on
 * `notifications/tools/list_changed`), calls them, and reconnects in the background with backoff
 * whenever the connection fails. Nothing here throws out of the connection's life; only `call`
 * rejects, with a ToolError the model can read.
 */
export class McpServerConnection {
  private state: McpServerState = 'connecting';
  private client: Client | undefined;
  private transportKind: McpTransportKind | undefined;
  private toolList: readonly Tool[] = [];
  /** Clients still connecting, so shutdown can close them (and kill their child processes). */
  private readonly pending = new Set<Client>();
  private failures = 0;
  private connectedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastProblem = '';
  private checking = false;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private stderrTail = '';
  private readonly secrets: string[];

  constructor(
    readonly entry: McpServerEntry,
    private readonly timings: McpConnectionTimings,
    private readonly logger: Logger,
    /** Called when the tools this server offers may have changed. */
    private readonly onToolsChanged: () => void,
  ) {
    this.secrets = entrySecrets(entry);
  }

  get name(): string {
    return this.entry.name;
  }

  /** The server's tools as last listed: none before it first connects, the last known while it reconnects. */
  get tools(): readonly Tool[] {
    return this.state === 'closed' ? [] : this.toolList;
  }

  get status(): { state: McpServerState; transport: McpTransportKind | undefined } {
    return { state: this.state, transport: this.transportKind };
  }

  /** The first attempt: resolves true once connected, false if it failed (it then keeps trying in the background). Never rejects. */
  start(): Promise<boolean> {
    return this.tryConnect();
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal, timeoutMs: number): Promise<unknown> {
    const client = this.client;
    if (client === undefined || this.state !== 'connected') {
      throw new ToolError(`The MCP server "${this.name}" is not reachable right now (reconnecting in the background); try again later.`);
    }
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: timeoutMs });
    } catch (error) {
      // The caller aborted (stop, shutdown, its own timeout): it knows why, and says so itself.
      if (signal.aborted) throw signal.reason;
      throw this.callFailure(client, error, timeoutMs);
    }
    const content = Array.isArray(result.content) ? (result.content as ContentBlock[]) : [];
    if (result.isError === true) throw new ToolError(contentText(content) || `The tool "${tool}" of the MCP server "${this.name}" failed without a message.`);
    return toolResultOutput({ content, structuredContent: result.structuredContent });
  }

  /** Stops reconnecting, ends the HTTP session, closes the client (a stdio server's process ends with it). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    const clients = [...this.pending, ...(this.client ? [this.client] : [])];
    this.client = undefined;
    this.pending.clear();
    await Promise.all(clients.map((client) => this.closeClient(client, true)));
  }

  /** A method, not a field read: the state changes while a connection attempt awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private async tryConnect(): Promise<boolean> {
    if (this.state === 'closed') return false;
    try {
      const { client, kind, tools } = await this.open();
      if (this.isClosed()) {
        await this.closeClient(client, true);
        return false;
      }
      const reconnected = this.state === 'reconnecting';
      this.client = client;
      this.transportKind = kind;
      this.toolList = tools;
      this.state = 'connected';
      this.connectedAt = Date.now();
      this.lastProblem = '';
      this.logger.log(`MCP server "${this.name}" ${reconnected ? 'is back' : 'connected'} (${this.where()}, ${kind}, ${tools.length} tools)`);
      this.onToolsChanged();
      return true;
    } catch (error) {
      if (this.isClosed()) return false;
      const problem = this.describe(error);
      // Logged once per cause, not once per retry.
      if (problem !== this.lastProblem) {
        this.lastProblem = problem;
        const verb = this.state === 'reconnecting' ? 'cannot be reached again yet' : 'cannot be reached';
        this.logger.warn(`MCP server "${this.name}" (${this.where()}) ${verb}: ${problem}${this.stderrNote()}; retrying in the background`);
      }
      this.scheduleRetry();
      return false;
    }
  }

  /**
   * Backoff: reconnectInitialMs, doubling up to reconnectMaxMs; `now` (a connection that held a
   * while and then went away) tries at once first.
   */
  private scheduleRetry(now = false): void {
    if (this.state === 'closed') return;
    const delay = now ? 0 : Math.min(this.timings.reconnectInitialMs * 2 ** this.failures, this.timings.reconnectMaxMs);
    if (!now) this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.tryConnect();
    }, delay);
    this.retryTimer.unref();
  }

  /** Connects with the entry's transport; an HTTP server without `type` that answers Streamable HTTP with a 4xx is tried over SSE. */
  private async open(): Promise<{ client: Client; kind: McpTransportKind; tools: Tool[] }> {
    const entry = this.entry;
    if (entry.kind === 'stdio') {
      const transport = new StdioClientTransport({
        command: entry.command,
        args: [...entry.args],
        // Only the SDK's short list (PATH, HOME, USER…) and the entry's own: the app's keys stay in the app.
        env: { ...getDefaultEnvironment(), ...entry.env },
        cwd: entry.cwd,
        // Read, never inherited (it would mix into the app's log) nor left unread (a full pipe blocks the child).
        stderr: 'pipe',
      });
      this.stderrTail = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      return this.openWith('stdio', transport);
    }
    const options = { requestInit: { headers: { ...entry.headers } } };
    if (entry.transport === 'sse') return this.openWith('sse', new SSEClientTransport(new URL(entry.url), options));
    try {
      return await this.openWith('streamable-http', new StreamableHTTPClientTransport(new URL(entry.url), options));
    } catch (error) {
      const refused = error instanceof StreamableHTTPError && error.code !== undefined && error.code >= 400 && error.code < 500;
      if (entry.transport !== 'auto' || !refused || this.isClosed()) throw error;
      try {
        return await this.openWith('sse', new SSEClientTransport(new URL(entry.url), options));
      } catch (sseError) {
        throw new Error(`Streamable HTTP: ${this.describe(error)}; SSE: ${this.describe(sseError)}`);
      }
    }
  }

  private async openWith(kind: McpTransportKind, transport: Transport): Promise<{ client: Client; kind: McpTransportKind; tools: Tool[] }> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    this.pending.add(client);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshTools(client));
    client.onclose = () => this.lost(client, 'the connection closed');
    client.onerror = () => this.checkHealth(client);
    try {
      await client.connect(transport, { timeout: this.timings.connectTimeoutMs });
      const tools = await this.listTools(client);
      return { client, kind, tools };
    } catch (error) {
      await this.closeClient(client, false);
      throw error;
    } finally {
      this.pending.delete(client);
    }
  }

  private async listTools(client: Client): Promise<Tool[]> {
    if (!client.getServerCapabilities()?.tools) return [];
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: this.timings.connectTimeoutMs });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** On `notifications/tools/list_changed`: lists again; notifications that arrive meanwhile make one more listing. */
  private refreshTools(client: Client): Promise<void> {
    if (client !== this.client) return Promise.resolve();
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const tools = await this.listTools(client);
          if (client !== this.client) return;
          this.toolList = tools;
          this.logger.log(`MCP server "${this.name}" changed its tools (${tools.length} now)`);
          this.onToolsChanged();
        } catch {
          this.checkHealth(client);
          return;
        }
      } while (this.refreshAgain);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * After a transport error or a call that failed without an answer: a ping tells a connection that
   * is gone (reconnect) from a hiccup (nothing to do).
   */
  private checkHealth(client: Client): void {
    if (client !== this.client || this.state !== 'connected' || this.checking) return;
    this.checking = true;
    client
      .ping({ timeout: this.timings.pingTimeoutMs })
      .then(
        () => undefined,
        (error: unknown) => this.lost(client, this.describe(error)),
      )
      .finally(() => {
        this.checking = false;
      });
  }

  /** The live connection is gone: its tools stay offered (calls answer with a tool error) while it reconnects. */
  private lost(client: Client, reason: string): void {
    if (client !== this.client || this.state !== 'connected') return;
    this.client = undefined;
    this.state = 'reconnecting';
    this.lastProblem = '';
    this.logger.warn(`MCP server "${this.name}" (${this.where()}) went away: ${reason}${this.stderrNote()}; reconnecting`);
    void this.closeClient(client, false);
    // A connection that held a while is retried at once; one that keeps dropping soon after connecting backs off.
    const held = Date.now() - this.connectedAt >= this.timings.reconnectMaxMs;
    if (held) this.failures = 0;
    this.scheduleRetry(held);
  }

  private callFailure(client: Client, error: unknown, timeoutMs: number): ToolError {
    if (error instanceof McpError && error.code === (ErrorCode.RequestTimeout as number)) {
      this.checkHealth(client);
      return new ToolError(`The MCP server "${this.name}" did not answer within ${timeoutMs} ms.`);
    }
    if (error instanceof McpError && error.code === (ErrorCode.ConnectionClosed as number)) {
      this.lost(client, 'the connection closed during a call');
      return new ToolError(`The MCP server "${this.name}" closed the connection during the call; reconnecting in the background.`);
    }
    // The server answered with a JSON-RPC error (an unknown tool, arguments it refused): the connection is fine.
    if (error instanceof McpError) return new ToolError(`The MCP server "${this.name}" refused the call: ${this.describe(error)}`);
    this.checkHealth(client);
    return new ToolError(`The MCP server "${this.name}" could not be reached: ${this.describe(error)}`);
  }

  private async closeClient(client: Client, endSession: boolean): Promise<void> {
    const transport = client.transport;
    if (endSession && transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
      // Polite, not required: the server can free the session now rather than when it times out.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        transport.terminateSession().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, TERMINATE_SESSION_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    await client.close().catch(() => undefined);
  }

  /** Where the server is, as logs may show it: the URL without credentials or query values, or the program's name (not its arguments). */
  private where(): string {
    return this.entry.kind === 'http' ? displayUrl(this.entry.url) : `command ${this.entry.command}`;
  }

  /** An error in one line: its message and the system error code under it (`fetch failed (ECONNREFUSED)`), secrets hidden. */
  private describe(error: unknown): string {
    // Duck-typed: errors from Node's own fetch may come from another realm (as under jest), where `instanceof Error` fails.
    const fields = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { message?: unknown; name?: unknown; code?: unknown; cause?: unknown }) : undefined);
    const top = fields(error);
    let text = typeof top?.message === 'string' && top.message !== '' ? top.message : typeof top?.name === 'string' ? top.name : String(error);
    for (let cause = fields(top?.cause), depth = 0; cause !== undefined && depth < 3; cause = fields(cause.cause), depth++) {
      if (typeof cause.code === 'string' && !text.includes(cause.code)) {
        text += ` (${cause.code})`;
        break;
      }
    }
    return this.clean(text);
  }

  private stderrNote(): string {
    const lines = this.stderrTail.split('\n').map((line) => line.trim()).filter(Boolean);
    if (this.entry.kind !== 'stdio' || lines.length === 0) return '';
    return `; its last stderr: ${this.clean(lines.slice(-3).join(' | '))}`;
  }

  private clean(text: string): string {
    const oneLine = redact(text, this.secrets).replace(/\s+/g, ' ').trim();
    return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
  }
}
