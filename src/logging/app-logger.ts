import { ConsoleLogger, type LoggerService, type LogLevel as NestLogLevel } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { pino, type Logger as Pino } from 'pino';
import { LOG_LEVELS, type LogLevel, type LogSettings } from './log-settings.js';
import { currentRequest } from './request-context.js';


/** One request, as its access line reports it. */
export interface AccessLine {
  readonly method: string;
  /** The route's pattern (`/api/conversations/:id/messages`), or undefined when no route matched. */
  readonly route: string | undefined;
  /** The path without its query (query values are left out of logs). */
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  /** The client went away before the response was complete. */
  readonly aborted: boolean;
  readonly requestId: string;
  readonly traceId?: string;
  readonly spanId?: string;
  /** For a request that started an answer: its model, its status when the response ended, and its tokens. */
  readonly answer?: {
    readonly model: string;
    readonly status: string;
    readonly inputTokens?: number;
    readonly outputTokens?: number;
  };
  /** Probes (health, readiness) are logged at debug level: one every few seconds would drown the rest. */
  readonly probe?: boolean;
}

/** The app's LoggerService (Nest's Logger calls end here), plus one access line per request. */
export interface AppLogger extends LoggerService {
  access(line: AccessLine): void;
}

const PINO_LEVEL: Record<LogLevel, pino.Level> = { fatal: 'fatal', error: 'error', warn: 'warn', info: 'info', debug: 'debug', verbose: 'trace' };

/** LOG_FORMAT=json: pino, one JSON object a line, on stdout. LOG_FORMAT=pretty: Nest's own console format. */
export function createAppLogger(settings: LogSettings, destination?: pino.DestinationStream): AppLogger {
  return settings.format === 'json' ? new JsonLogger(settings.level, destination) : new PrettyLogger(settings.level);
}

/**
 * `{"level":"info","time":"…","context":"ChatService","message":"…","requestId":"…","traceId":"…","spanId":"…"}`:
 * the request id of the request being handled and, inside a trace, its ids, come from the context
 * the line is logged in. Written synchronously, so nothing is lost when the process exits.
 */
class JsonLogger implements AppLogger {
  private readonly pino: Pino;

  constructor(level: LogLevel, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true })) {
    this.pino = pino(
      {
        level: PINO_LEVEL[level],
        messageKey: 'message',
        base: { pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => requestFields(),
      },
      destination,
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  access(line: AccessLine): void {
    const { probe, ...fields } = line;
    const level = probe ? 'debug' : 'info';
    if (!this.pino.isLevelEnabled(level)) return;
    // The request's own ids, not those of the context the response happens to end in.
    this.pino[level]({ context: 'Access', ...fields }, accessMessage(line));
  }

  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const { context, stack } = contextAndStack(params, level === 'error' || level === 'fatal');
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    let text: string;
    if (message instanceof Error) {
      text = message.message;
      fields.stack = stack ?? message.stack;
    } else {
      text = typeof message === 'string' ? message : JSON.stringify(message);
      if (stack) fields.stack = stack;
    }
    this.pino[level](fields, text);
  }
}

/**
 * Nest's Logger passes the context as the last argument, and for errors a stack before it
 * (`error(message, stack, context)`; `error(message, undefined, context)` from a Logger with a
 * context and no stack).
 */
function contextAndStack(params: unknown[], isError: boolean): { context?: string; stack?: string } {
  const strings = params.filter((p): p is string => typeof p === 'string');
  if (params.length === 0) return {};
  const last = params.at(-1);
  if (isError && params.length === 1 && typeof last === 'string' && /\n\s+at /.test(last)) return { stack: last };
  const context = typeof last === 'string' ? last : undefined;
  const stack = isError ? strings.find((p) => p !== context && /\n\s+at /.test(p)) : undefined;
  return { context, stack };
}

/** Nest's console format, filtered by LOG_LEVEL, with the access line as one readable line. */
class PrettyLogger extends ConsoleLogger implements AppLogger {
  private readonly debugEnabled: boolean;
  private readonly infoEnabled: boolean;

  constructor(level: LogLevel) {
    const enabled = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1).map((l): NestLogLevel => (l === 'info' ? 'log' : l));
    super({ logLevels: enabled });
    this.debugEnabled = enabled.includes('debug');
    this.infoEnabled = enabled.includes('log');
  }

  access(line: AccessLine): void {
    if (line.probe ? !this.debugEnabled : !this.infoEnabled) return;
    const ids = [`request ${line.requestId}`, ...(line.traceId ? [`trace ${line.traceId}`] : [])].join(', ');
    const text = `${accessMessage(line)} (${ids})`;
    if (line.probe) this.debug(text, 'Access');
    else this.log(text, 'Access');
  }
}

/** `POST /api/chat 200 1234 ms`, and for an answer its model, status and tokens. */
export function accessMessage(line: AccessLine): string {
  const base = `${line.method} ${line.route ?? line.path} ${line.status}${line.aborted ? ' (client gone)' : ''} ${Math.round(line.durationMs)} ms`;
  const answer = line.answer;
  if (!answer) return base;
  const tokens = answer.inputTokens !== undefined ? `, ${answer.inputTokens} in / ${answer.outputTokens} out tokens` : '';
  return `${base}: answer by ${answer.model} ${answer.status}${tokens}`;
}

/** The request id and, inside a sampled or recorded trace, the trace and span ids of the code that logs. */
function requestFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const request = currentRequest();
  if (request) fields.requestId = request.requestId;
  const span = trace.getActiveSpan()?.spanContext();
  if (span && trace.isSpanContextValid(span)) {
    fields.traceId = span.traceId;
    fields.spanId = span.spanId;
  }
  return fields;
}
