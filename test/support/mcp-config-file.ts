import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The stdio test server (plain JavaScript, so `node` runs it as it is). */
export const MCP_STDIO_SERVER_PATH = fileURLToPath(new URL('./mcp-stdio-server.mjs', import.meta.url));

/** An MCP_CONFIG entry that runs the stdio test server with this Node. */
export function stdioTestServerEntry(env: Record<string, string> = {}): { command: string; args: string[]; env: Record<string, string> } {
  return { command: process.execPath, args: [MCP_STDIO_SERVER_PATH], env };
}

export interface McpConfigFile {
  readonly path: string;
  /** Deletes the file and its folder. */
  remove(): void;
}

/** Writes `{"mcpServers": servers}` (or, given a string, that text as it is) to a file of its own for MCP_CONFIG. */
export function writeMcpConfig(servers: Record<string, unknown> | string): McpConfigFile {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
  const path = join(dir, 'mcp.json');
  writeFileSync(path, typeof servers === 'string' ? servers : JSON.stringify({ mcpServers: servers }, null, 2));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
