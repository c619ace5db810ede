import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { type JsonSchemaObject, type ToolCallContext, type ToolDefinition, ToolError, type ToolSource } from '../tool-source.js';
import { type McpConfig, readMcpConfig } from './mcp-config.js';
import type { McpConnectionTimings, McpServerConnection, McpServerState, McpTransportKind } from './mcp-server-connection.js';
import { assignToolNames } from './mcp-tool-names.js';

/** Knobs with sensible defaults; tests shorten them. Not settings: nothing in the environment sets them. */
export interface McpToolSourceOptions extends Partial<McpConnectionTimings> {
  /** How long start-up waits for the servers' first connections (all in parallel) before it goes on without the slow ones. */
  readonly bootWaitMs?: number;
}

export const MCP_TOOL_SOURCE_OPTIONS = Symbol('MCP_TOOL_SOURCE_OPTIONS');

/**
 * 5 s: a server on this host or the LAN answers in milliseconds, and a stdio server started with
 * `node`/`npx`/`uvx` (from cache) is up in one to three seconds, so all of them are in the first
 * answer's tools; an address that swallows packets (TCP gives up after minutes) holds start-up no longer.
 */
const DEFAULTS: Required<McpToolSourceOptions> = {
  bootWaitMs: 5_000,
  connectTimeoutMs: 30_000,
  pingTimeoutMs: 5_000,
  reconnectInitialMs: 1_000,
  reconnectMaxMs: 30_000,
};

export interface McpServerStatus {
  readonly server: string;
  readonly state: McpServerState;
  /** The transport of the current or last connection; undefined before the first one. */
  readonly transport: McpTransportKind | undefined;
  /** The names this server's tools are offered under. */
  readonly tools: readonly string[];
}

interface Route {
  readonly connection: McpServerConnection;
  /** The tool's own name on its server. */
  readonly tool: string;
}

/**
 * The tools of the MCP servers listed in MCP_CONFIG, offered as `<server>_<tool>`. The file is read
 * and checked when the provider is made (a bad file stops start-up with a ConfigError); the servers
 * are connected at bootstrap, and a server that is down never fails start-up or a call other than
 * its own (see McpServerConnection). The SDK is loaded only when the file lists servers.
 */
@Injectable()
export class McpToolSource implements ToolSource, OnApplicationBootstrap, OnApplicationShutdown {
  readonly label = 'mcp';
  private readonly logger = new Logger('MCP');
  private readonly mcpConfig: McpConfig | undefined;
  private readonly options: Required<McpToolSourceOptions>;
  private readonly timeoutMs: number;
  private connections: McpServerConnection[] = [];
  private offered: readonly ToolDefinition[] = [];
  private routes = new Map<string, Route>();
  private closed = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Optional() @Inject(MCP_TOOL_SOURCE_OPTIONS) options?: McpToolSourceOptions) {
    this.options = { ...DEFAULTS, ...options };
    this.timeoutMs = config.tools.timeoutMs;
    const path = config.tools.mcpConfigPath;
    this.mcpConfig = path === undefined ? undefined : readMcpConfig(path);
  }

  async onApplicationBootstrap(): Promise<void> {
    const config = this.mcpConfig;
    if (config === undefined) return;
    if (config.disabled.length > 0) this.logger.log(`MCP servers disabled in MCP_CONFIG: ${config.disabled.join(', ')}`);
    if (config.servers.length === 0) {
      this.logger.warn('MCP_CONFIG lists no MCP servers to use');
      return;
    }
    const { McpServerConnection } = await import('./mcp-server-connection.js');
    if (this.closed) return;
    this.connections = config.servers.map((entry) => new McpServerConnection(entry, this.options, this.logger, () => this.updateTools()));
    const first = Promise.all(this.connections.map((connection) => connection.start()));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => {
      timer = setTimeout(() => resolve('waited'), this.options.bootWaitMs);
      timer.unref();
    });
    const outcome = await Promise.race([first, waited]);
    clearTimeout(timer);
    if (outcome === 'waited') {
      const late = this.connections.filter((connection) => connection.status.state !== 'connected').map((connection) => connection.name);
      if (late.length > 0) {
        this.logger.warn(`MCP: not connected within ${this.options.bootWaitMs} ms, so not in the first answers' tools: ${late.join(', ')}; still trying in the background`);
      }
    }
  }

  definitions(): readonly ToolDefinition[] {
    return this.offered;
  }

  async call(name: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const route = this.routes.get(name);
    if (route === undefined) throw new ToolError(`No MCP tool is called "${name}" (any more).`);
    return route.connection.call(route.tool, args, context.signal, this.timeoutMs);
  }

  /** Each server's state and offered tools, for logs and health reports. */
  status(): McpServerStatus[] {
    const byConnection = new Map<McpServerConnection, string[]>();
    for (const [name, route] of this.routes) byConnection.set(route.connection, [...(byConnection.get(route.connection) ?? []), name]);
    return this.connections.map((connection) => ({
      server: connection.name,
      state: connection.status.state,
      transport: connection.status.transport,
      tools: byConnection.get(connection) ?? [],
    }));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const connections = this.connections;
    await Promise.all(connections.map((connection) => connection.close()));
    this.updateTools();
  }

  /** Rebuilds the offered definitions and the name → server routes from every server's last tool list. */
  private updateTools(): void {
    const listed = this.connections.flatMap((connection) => connection.tools.map((tool) => ({ connection, tool })));
    const names = assignToolNames(listed.map(({ connection, tool }) => ({ server: connection.name, tool: tool.name })));
    const offered: ToolDefinition[] = [];
    const routes = new Map<string, Route>();
    listed.forEach(({ connection, tool }, i) => {
      const name = names[i];
      if (name === undefined) {
        this.logger.warn(`MCP: the tool "${tool.name}" of "${connection.name}" is left out: its name clashes with another's`);
        return;
      }
      routes.set(name, { connection, tool: tool.name });
      offered.push({
        name,
        description: tool.description ?? tool.title ?? `The "${tool.name}" tool of the MCP server "${connection.name}".`,
        parameters: objectSchema(tool.inputSchema),
      });
    });
    this.offered = Object.freeze(offered);
    this.routes = routes;
  }
}

/**
 * The tool's input schema as an object schema a chat API takes: `type: "object"` and a
 * `properties` object always there, `$schema` dropped (the model has no use for it, and some
 * validators refuse a meta-schema they do not know).
 */
function objectSchema(inputSchema: unknown): JsonSchemaObject {
  const schema = typeof inputSchema === 'object' && inputSchema !== null && !Array.isArray(inputSchema) ? { ...(inputSchema as Record<string, unknown>) } : {};
  delete schema.$schema;
  const properties = schema.properties;
  return {
    ...schema,
    type: 'object',
    properties: typeof properties === 'object' && properties !== null && !Array.isArray(properties) ? properties : {},
  };
}
