/** LOG_FORMAT: `json`, one object a line (the default when stdout is not a terminal), or `pretty` (Nest's console format). */
export type LogFormat = 'json' | 'pretty';
/** LOG_LEVEL, least to most verbose; `info` is Nest's `log`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'];

export interface LogSettings {
  readonly format: LogFormat;
  readonly level: LogLevel;
}

/** A LOG_LEVEL value (any case; Nest's `log` and pino's `trace` are taken too), or undefined when it names none. */
export function parseLogLevel(raw: string): LogLevel | undefined {
  const name = raw.toLowerCase();
  if (name === 'log') return 'info';
  if (name === 'trace') return 'verbose';
  return LOG_LEVELS.find((level) => level === name);
}
