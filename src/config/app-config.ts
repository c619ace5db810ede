import { isAbsolute, resolve } from 'node:path';
import { LOG_LEVELS, type LogSettings, parseLogLevel } from '../logging/log-settings.js';

export type DatabaseConfig =
  | { readonly type: 'sqlite'; readonly path: string }
  | { readonly type: 'postgres'; readonly url: string };

/** Where answers come from: a real OpenAI-compatible server, or the built-in offline model. */
export type ModelConfig =
  | {
      readonly kind: 'openai';
      readonly apiKey: string | undefined;
      readonly baseURL: string | undefined;
      readonly model: string;
      /** How the SDK talks HTTP: node:http with a keep-alive pool, or Node's built-in fetch. */
      readonly httpClient: 'node' | 'fetch';
      /** OPENAI_MODELS: the models conversations may choose; empty: what the server's GET /models lists. */
      readonly choices: readonly string[];
    }
  | { readonly kind: 'offline' };

/** What the model may call (README, "Tools"). */
export interface ToolsConfig {
  /** AGENT_TOOLS: the opt-in tools switched on by name (the built-ins, the example provider tool); `*` for all. */
  readonly enabled: readonly string[] | '*';
  /** AGENT_MAX_STEPS: model calls per answer, tool rounds included. */
  readonly maxSteps: number;
  /** AGENT_TOOL_TIMEOUT_MS: one tool call, from its start to its result. */
  readonly timeoutMs: number;
  /** AGENT_TOOL_RESULT_MAX_BYTES: a longer result is cut (and says so) before the model sees it. */
  readonly resultMaxBytes: number;
  /** MCP_CONFIG: the path of an `{"mcpServers": {…}}` file, resolved against the working directory. */
  readonly mcpConfigPath: string | undefined;
}

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly model: ModelConfig;
  readonly systemPrompt: string | undefined;
  readonly database: DatabaseConfig;
  readonly chatDebounceMs: number;
  readonly maxPromptChars: number;
  /** Budget for the history sent to the model (system prompt excluded), in estimated tokens. */
  readonly contextMaxTokens: number;
  /** Memory for the finished messages answers' contexts have read, shared by the answers that read them again (0: none kept). */
  readonly contextCacheBytes: number;
  /** Upstream limits: wait for the first token, wait between tokens, tries before the first token. */
  readonly upstream: { readonly firstTokenTimeoutMs: number; readonly idleTimeoutMs: number; readonly retries: number };
  /** An empty line goes out on a stream that has been quiet this long, so idle-timing proxies keep it open. */
  readonly keepAliveMs: number;
  /** Answers on the REST and AI SDK routes whose client goes away: run on (`continue`) or stop (`abort`). */
  readonly answerOnDisconnect: 'continue' | 'abort';
  /** No answer runs longer than this. */
  readonly answerMaxDurationMs: number;
  /** How often a streaming answer's text so far is saved (0: only at its end). */
  readonly answerCheckpointMs: number;
  /** Redis for what instances share: resume and stop across instances, rate limits, stream slots. */
  readonly redisUrl: string | undefined;
  /** PostgreSQL: how often an instance looks for answers left `streaming` by instances that died. */
  readonly recoverySweepMs: number;
  /** Origins (scheme://host[:port]) allowed to call the API from a browser; empty: same origin only. */
  readonly corsOrigins: readonly string[];
  /** Whether the page loads images from other sites in answers (off: they become links). */
  readonly allowRemoteImages: boolean;
  /** Derived from maxPromptChars: a urlencoded prompt costs up to 9 bytes per character. */
  readonly maxBodyBytes: number;
  readonly access: AccessConfig;
  /** Per client, per minute; 0 turns a limit off. */
  readonly rateLimits: { readonly requestsPerMinute: number; readonly answersPerMinute: number };
  /** Answers one client may stream at once; 0: no limit. */
  readonly maxStreamsPerClient: number;
  /** Express's `trust proxy`: false, a hop count, or addresses/subnets of trusted proxies. */
  readonly trustProxy: boolean | number | string;
  /** Host names (no port) requests must name in `Host`; empty: any. Defaults to the loopback names on a loopback HOST. */
  readonly allowedHosts: readonly string[];
  readonly tools: ToolsConfig;
  /** LOG_FORMAT (json, or pretty: the default on a terminal) and LOG_LEVEL. */
  readonly log: LogSettings;
  /** SHUTDOWN_DELAY_MS: after SIGTERM, /readyz answers 503 this long before the drain starts. */
  readonly shutdownDelayMs: number;
}

export type AuthMode = 'none' | 'cookie' | 'token';

export interface AccessConfig {
  readonly mode: AuthMode;
  /** Signs the anonymous-owner cookie (cookie mode). */
  readonly sessionSecret: string | undefined;
  /** Bearer tokens, each its own owner (cookie and token modes). */
  readonly apiTokens: readonly string[];
}

export const MIN_SECRET_CHARS = 32;
export const MIN_TOKEN_CHARS = 16;
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\./.test(host);
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export const DEFAULT_SQLITE_PATH = 'data/chat.sqlite';
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment once, at boot. Every problem is collected so that a
 * misconfigured deployment is fixed in one go rather than one restart per variable.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): AppConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return Number(raw);
  };

  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got ${JSON.stringify(raw)})`);
    return fallback;
  };

  const port = integer('PORT', 3000, 0, 65535);
  const host = value('HOST') ?? '127.0.0.1';
  const chatDebounceMs = integer('CHAT_DEBOUNCE_MS', 10, 0, 10_000);
  const maxPromptChars = integer('MAX_PROMPT_CHARS', 32_000, 1, 10_000_000);
  const contextMaxTokens = integer('CONTEXT_MAX_TOKENS', 8_000, 100, 10_000_000);
  const contextCacheBytes = integer('CONTEXT_CACHE_MB', 16, 0, 65_536) * 1024 * 1024;
  const allowRemoteImages = boolean('ALLOW_REMOTE_IMAGES', false);
  const upstream = {
    firstTokenTimeoutMs: integer('UPSTREAM_FIRST_TOKEN_TIMEOUT_MS', 60_000, 100, 3_600_000),
    idleTimeoutMs: integer('UPSTREAM_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    retries: integer('UPSTREAM_RETRIES', 2, 0, 10),
  };
  const corsOrigins = (value('CORS_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => {
      try {
        const url = new URL(origin);
        if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin.replace(/\/$/, '')) return url.origin;
      } catch {
        // reported below
      }
      problems.push(`CORS_ORIGINS must list origins like https://app.example.com, comma-separated (got ${JSON.stringify(origin)})`);
      return origin;
    });
  const keepAliveMs = integer('KEEPALIVE_INTERVAL_MS', 15_000, 10, 3_600_000);
  const recoverySweepMs = integer('RECOVERY_SWEEP_INTERVAL_MS', 30_000, 500, 3_600_000);
  const answerOnDisconnect = (value('ANSWER_ON_DISCONNECT') ?? 'continue').toLowerCase();
  if (answerOnDisconnect !== 'continue' && answerOnDisconnect !== 'abort') {
    problems.push(`ANSWER_ON_DISCONNECT must be continue or abort (got ${JSON.stringify(answerOnDisconnect)})`);
  }
  const answerMaxDurationMs = integer('ANSWER_MAX_DURATION_MS', 600_000, 1_000, 86_400_000);
  const answerCheckpointMs = integer('ANSWER_CHECKPOINT_MS', 1_000, 0, 3_600_000);
  const redisUrl = value('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/i.test(redisUrl)) {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
  }

  const apiKey = value('OPENAI_API_KEY');
  const baseURL = value('OPENAI_BASE_URL');
  if (baseURL !== undefined && !isHttpUrl(baseURL)) {
    // Only its scheme is echoed: a mistyped URL may still hold a password or a key.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(baseURL)?.[1];
    problems.push(`OPENAI_BASE_URL must be an http:// or https:// URL (got ${scheme ? `a ${scheme}: URL` : 'no URL'})`);
  }
  const httpClient = (value('UPSTREAM_HTTP_CLIENT') ?? 'node').toLowerCase();
  if (httpClient !== 'node' && httpClient !== 'fetch') {
    problems.push(`UPSTREAM_HTTP_CLIENT must be node or fetch (got ${JSON.stringify(httpClient)})`);
  }
  const choices = (value('OPENAI_MODELS') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (choices.some((name) => name.length > 200)) problems.push('OPENAI_MODELS must be a comma-separated list of model names of at most 200 characters each');
  const model: ModelConfig =
    apiKey === undefined && baseURL === undefined
      ? { kind: 'offline' }
      : {
          kind: 'openai',
          apiKey,
          baseURL,
          model: value('OPENAI_MODEL') ?? DEFAULT_OPENAI_MODEL,
          httpClient: httpClient === 'fetch' ? 'fetch' : 'node',
          choices: [...new Set(choices)],
        };

  const database = parseDatabaseUrl(value('DATABASE_URL'), cwd, problems);

  const mode = (value('AUTH_MODE') ?? 'none').toLowerCase();
  if (mode !== 'none' && mode !== 'cookie' && mode !== 'token') problems.push(`AUTH_MODE must be none, cookie or token (got ${JSON.stringify(mode)})`);
  const sessionSecret = value('SESSION_SECRET');
  if (mode === 'cookie' && (sessionSecret === undefined || sessionSecret.length < MIN_SECRET_CHARS)) {
    problems.push(`AUTH_MODE=cookie needs SESSION_SECRET, a random string of at least ${MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)`);
  }
  const apiTokens = (value('API_TOKENS') ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  if (apiTokens.some((token) => token.length < MIN_TOKEN_CHARS || /\s/.test(token))) {
    problems.push(`API_TOKENS must be comma-separated tokens of at least ${MIN_TOKEN_CHARS} characters without spaces`);
  }
  if (mode === 'token' && apiTokens.length === 0) problems.push('AUTH_MODE=token needs API_TOKENS (comma-separated bearer tokens)');

  const rateLimits = {
    requestsPerMinute: integer('RATE_LIMIT_REQUESTS_PER_MINUTE', 600, 0, 1_000_000),
    answersPerMinute: integer('RATE_LIMIT_ANSWERS_PER_MINUTE', 30, 0, 1_000_000),
  };
  const maxStreamsPerClient = integer('MAX_STREAMS_PER_CLIENT', 4, 0, 1_000_000);
  const trustProxy = parseTrustProxy(value('TRUST_PROXY'), problems);
  const allowedHostsRaw = value('ALLOWED_HOSTS');
  const allowedHosts =
    allowedHostsRaw === undefined
      ? isLoopbackHost(host)
        ? LOOPBACK_HOSTS
        : []
      : allowedHostsRaw === '*'
        ? []
        : allowedHostsRaw
            .split(',')
            .map((name) => name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1'))
            .filter(Boolean);

  const toolNames = (value('AGENT_TOOLS') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (toolNames.some((name) => name !== '*' && !/^[a-zA-Z0-9_-]{1,64}$/.test(name))) {
    problems.push('AGENT_TOOLS must be a comma-separated list of tool names (letters, digits, _ and -), or *');
  }
  const mcpConfig = value('MCP_CONFIG');
  const tools: ToolsConfig = {
    enabled: toolNames.includes('*') ? '*' : toolNames,
    maxSteps: integer('AGENT_MAX_STEPS', 8, 1, 100),
    timeoutMs: integer('AGENT_TOOL_TIMEOUT_MS', 30_000, 10, 3_600_000),
    resultMaxBytes: integer('AGENT_TOOL_RESULT_MAX_BYTES', 16 * 1024, 256, 16 * 1024 * 1024),
    mcpConfigPath: mcpConfig === undefined ? undefined : resolve(cwd, mcpConfig),
  };

  const logFormat = (value('LOG_FORMAT') ?? (process.stdout.isTTY ? 'pretty' : 'json')).toLowerCase();
  if (logFormat !== 'json' && logFormat !== 'pretty') problems.push(`LOG_FORMAT must be json or pretty (got ${JSON.stringify(logFormat)})`);
  const logLevelRaw = value('LOG_LEVEL') ?? 'info';
  const logLevel = parseLogLevel(logLevelRaw);
  if (!logLevel) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(logLevelRaw)})`);
  const shutdownDelayMs = integer('SHUTDOWN_DELAY_MS', 0, 0, 600_000);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    model,
    systemPrompt: env.SYSTEM_PROMPT?.trim() ? env.SYSTEM_PROMPT : undefined,
    database,
    chatDebounceMs,
    maxPromptChars,
    contextMaxTokens,
    contextCacheBytes,
    allowRemoteImages,
    upstream,
    keepAliveMs,
    answerOnDisconnect: answerOnDisconnect === 'abort' ? 'abort' : 'continue',
    answerMaxDurationMs,
    answerCheckpointMs,
    redisUrl,
    recoverySweepMs,
    corsOrigins,
    maxBodyBytes: maxPromptChars * 9 + 16 * 1024,
    access: { mode: mode as AuthMode, sessionSecret, apiTokens },
    rateLimits,
    maxStreamsPerClient,
    trustProxy,
    allowedHosts,
    tools,
    log: { format: logFormat === 'pretty' ? 'pretty' : 'json', level: logLevel ?? 'info' },
    shutdownDelayMs,
  };
}

function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | number | string {
  if (raw === undefined || ['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^[0-9a-f.:/,\s]+$|^(loopback|linklocal|uniquelocal)(,|$)/i.test(raw)) return raw;
  problems.push(`TRUST_PROXY must be false, true, a hop count, or proxy addresses/subnets (got ${JSON.stringify(raw)})`);
  return false;
}

/** An http: or https: URL (the model server's, an MCP server's). */
export function isHttpUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function parseDatabaseUrl(raw: string | undefined, cwd: string, problems: string[]): DatabaseConfig {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  if (raw === undefined) return { type: 'sqlite', path: absolute(DEFAULT_SQLITE_PATH) };
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    try {
      new URL(raw);
      return { type: 'postgres', url: raw };
    } catch {
      problems.push('DATABASE_URL is not a valid postgres:// URL');
      return { type: 'postgres', url: raw };
    }
  }
  const sqlite = /^sqlite:(?:\/\/)?(.*)$/i.exec(raw);
  if (sqlite) {
    if (!sqlite[1]) problems.push('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:data/chat.sqlite');
    return { type: 'sqlite', path: absolute(sqlite[1] || DEFAULT_SQLITE_PATH) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    problems.push(`DATABASE_URL must be a file path, a sqlite: URL or a postgres:// URL (got a ${raw.split(':')[0]}: URL)`);
    return { type: 'sqlite', path: absolute(DEFAULT_SQLITE_PATH) };
  }
  return { type: 'sqlite', path: absolute(raw) };
}

/** The model in one line, for the start-up log (no credentials: see displayUrl). */
export function describeModel(model: ModelConfig): string {
  if (model.kind === 'offline') {
    return 'offline model (built in; set OPENAI_API_KEY or OPENAI_BASE_URL to use a real model)';
  }
  return `${model.model} via ${model.baseURL === undefined ? 'https://api.openai.com/v1' : displayUrl(model.baseURL)}`;
}

/**
 * A URL as logs may show it: scheme, host, port and path, with no user information, and `***`
 * for each query value (some gateways take their key as `?api-key=`).
 */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=***`).join('&');
    return `${url.protocol}//${url.host}${url.pathname}${query ? `?${query}` : ''}`;
  } catch {
    return 'an unreadable URL';
  }
}
