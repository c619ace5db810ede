import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, isHttpUrl } from '../../config/app-config.js';

/**
 * How an HTTP server is reached: `auto` tries Streamable HTTP and falls back to the older HTTP+SSE
 * transport when the server answers the first POST with a 4xx (the MCP spec's backwards-compatibility rule).
 */
export type McpHttpTransport = 'auto' | 'streamable-http' | 'sse';

export interface McpHttpServerEntry {
  readonly kind: 'http';
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly transport: McpHttpTransport;
}

export interface McpStdioServerEntry {
  readonly kind: 'stdio';
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the few variables every child gets (PATH, HOME…): the app's own environment is not passed on. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
}

export type McpServerEntry = McpHttpServerEntry | McpStdioServerEntry;

export interface McpConfig {
  readonly servers: readonly McpServerEntry[];
  /** Entries marked `"disabled": true` (as Cline and Roo write them): kept out, named in the log. */
  readonly disabled: readonly string[];
}

const ENTRY_KEYS = ['type', 'url', 'headers', 'command', 'args', 'env', 'cwd', 'disabled'];
const TYPES: Record<string, McpHttpTransport | 'stdio'> = {
  http: 'streamable-http',
  'streamable-http': 'streamable-http',
  streamableHttp: 'streamable-http',
  sse: 'sse',
  stdio: 'stdio',
};
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** `${VAR}` or `${VAR:-default}`, as Claude Code and pydantic-ai expand them, so secrets can stay out of the file. */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

type Env = Record<string, string | undefined>;

/**
 * Reads and checks an `{"mcpServers": {…}}` file (the format Claude Desktop, Cursor and pydantic-ai
 * share). Every problem is collected into one ConfigError that names the file and the entry; no
 * header, environment or URL value is ever repeated in it, since those hold keys.
 */
export function readMcpConfig(path: string, env: Env = process.env): McpConfig {
  const where = `MCP_CONFIG (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new ConfigError([`${where} cannot be read: ${why}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the mistake, which may be a key: only the place is said.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new ConfigError([`${where} is not valid JSON${position === undefined ? '' : ` (${lineAndColumn(text, Number(position))})`}`]);
  }
  if (!isPlainObject(data) || !isPlainObject(data.mcpServers)) {
    throw new ConfigError([`${where} must be a JSON object with an "mcpServers" object, e.g. {"mcpServers": {"docs": {"url": "http://127.0.0.1:8000/mcp"}}}`]);
  }

  const problems: string[] = [];
  const servers: McpServerEntry[] = [];
  const disabled: string[] = [];
  for (const [name, raw] of Object.entries(data.mcpServers)) {
    const entryProblems: string[] = [];
    const entry = readEntry(name, raw, dirname(path), env, entryProblems);
    problems.push(...entryProblems.map((problem) => `${where}: ${entryLabel(name)}: ${problem}`));
    if (entry === 'disabled') disabled.push(name);
    else if (entry !== undefined && entryProblems.length === 0) servers.push(entry);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { servers, disabled };
}

function readEntry(name: string, raw: unknown, baseDir: string, env: Env, problems: string[]): McpServerEntry | 'disabled' | undefined {
  if (name.trim() === '') problems.push('a server needs a name (its key is empty)');
  if (!isPlainObject(raw)) {
    problems.push('must be an object with "url" (an HTTP server) or "command" (a stdio server)');
    return undefined;
  }
  const unknown = Object.keys(raw).filter((key) => !ENTRY_KEYS.includes(key));
  for (const key of unknown) problems.push(`unknown key ${JSON.stringify(key)} (allowed: ${ENTRY_KEYS.join(', ')})`);

  if (raw.disabled !== undefined && typeof raw.disabled !== 'boolean') problems.push('"disabled" must be true or false');
  let type: McpHttpTransport | 'stdio' | undefined;
  if (raw.type !== undefined) {
    type = typeof raw.type === 'string' ? TYPES[raw.type] : undefined;
    if (type === undefined) problems.push(`"type" must be one of ${Object.keys(TYPES).join(', ')}`);
  }

  const expand = (value: string, field: string): string =>
    value.replace(VARIABLE, (_match, variable: string, fallback: string | undefined) => {
      const found = env[variable];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${field} uses \${${variable}}, which is not set`);
      return '';
    });

  const hasUrl = raw.url !== undefined;
  const hasCommand = raw.command !== undefined;
  if (hasUrl === hasCommand) {
    problems.push(hasUrl ? 'has both "url" and "command": give one' : 'needs "url" (an HTTP server) or "command" (a stdio server)');
    return undefined;
  }
  if (raw.disabled === true) return 'disabled';

  if (hasUrl) {
    if (type === 'stdio') problems.push('"type": "stdio" needs "command", not "url"');
    for (const key of ['args', 'env', 'cwd'].filter((k) => raw[k] !== undefined)) problems.push(`"${key}" is for stdio servers (with "command"), not with "url"`);
    const url = typeof raw.url === 'string' ? expand(raw.url, '"url"') : undefined;
    if (url === undefined || !isHttpUrl(url)) problems.push('"url" must be an http:// or https:// URL');
    const headers = stringMap(raw.headers, '"headers"', problems, expand, (key) => HEADER_NAME.test(key), 'HTTP header names');
    for (const [key, value] of Object.entries(headers)) {
      if (/[\r\n\0]/.test(value)) problems.push(`"headers"."${key}" must be one line`);
    }
    return { kind: 'http', name, url: url ?? '', headers, transport: type === 'stdio' || type === undefined ? 'auto' : type };
  }

  if (type !== undefined && type !== 'stdio') problems.push(`"type": "${String(raw.type)}" needs "url", not "command"`);
  if (raw.headers !== undefined) problems.push('"headers" is for HTTP servers (with "url"), not with "command"');
  const command = typeof raw.command === 'string' ? expand(raw.command, '"command"').trim() : '';
  if (command === '') problems.push('"command" must be a non-empty string (the program to run)');
  let args: string[] = [];
  if (raw.args !== undefined) {
    if (!Array.isArray(raw.args) || raw.args.some((arg) => typeof arg !== 'string')) problems.push('"args" must be an array of strings');
    else args = (raw.args as string[]).map((arg, i) => expand(arg, `"args"[${i}]`));
  }
  const childEnv = stringMap(raw.env, '"env"', problems, expand, (key) => key !== '' && !key.includes('=') && !key.includes('\0'), 'variable names');
  let cwd: string | undefined;
  if (raw.cwd !== undefined) {
    if (typeof raw.cwd !== 'string' || raw.cwd.trim() === '') problems.push('"cwd" must be a directory path');
    else {
      const dir = expand(raw.cwd, '"cwd"');
      cwd = isAbsolute(dir) ? dir : resolve(baseDir, dir);
    }
  }
  return { kind: 'stdio', name, command, args, env: childEnv, cwd };
}

function stringMap(
  raw: unknown,
  field: string,
  problems: string[],
  expand: (value: string, field: string) => string,
  validKey: (key: string) => boolean,
  keyKind: string,
): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) {
    problems.push(`${field} must be an object of strings`);
    return {};
  }
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!validKey(key)) problems.push(`${field} has ${JSON.stringify(key)}, which is not allowed in ${keyKind}`);
    // The value is never quoted back: headers and variables are where keys and tokens live.
    if (typeof value !== 'string') problems.push(`${field}.${JSON.stringify(key)} must be a string`);
    else map[key] = expand(value, `${field}.${JSON.stringify(key)}`);
  }
  return map;
}

/**
 * The strings of an entry that must never reach a log or an error a model reads: header and
 * environment values, and the user information and query values of its URL.
 */
export function entrySecrets(entry: McpServerEntry): string[] {
  const values: string[] = [];
  if (entry.kind === 'http') {
    values.push(...Object.values(entry.headers));
    for (const value of Object.values(entry.headers)) values.push(...value.split(/\s+/));
    try {
      const url = new URL(entry.url);
      values.push(url.username, url.password, decodeURIComponent(url.username), decodeURIComponent(url.password));
      for (const value of url.searchParams.values()) values.push(value, encodeURIComponent(value));
    } catch {
      // checked when the file was read
    }
  } else {
    values.push(...Object.values(entry.env));
  }
  // Short values (`1`, `true`) are not secrets, and hiding them would garble every message.
  return [...new Set(values.filter((value) => value.length >= 6))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('***');
  return result;
}

export function entryLabel(name: string): string {
  return /^[A-Za-z_][\w-]*$/.test(name) ? `mcpServers.${name}` : `mcpServers[${JSON.stringify(name)}]`;
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

