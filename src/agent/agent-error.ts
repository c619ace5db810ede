/** A failed model call, with a message fit to show the user (no internals, no stack). */
export class AgentError extends Error {
  /** Worth another try: a rate limit, a server error or a broken connection, before any text arrived. */
  readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = 'AgentError';
    this.retryable = options?.retryable ?? false;
  }
}

/** Shorter values are left alone: they would blank out ordinary words in a message, and secrets are longer. */
const MIN_SECRET_LENGTH = 4;
const CAUSE_CHAIN_DEPTH = 5;

/**
 * What must never reach a log line or a client: the API key, and the user, password and query
 * values of the base URL (some gateways take their key as `?api-key=`), as written and decoded.
 */
export function secretsOf(apiKey: string | undefined, baseURL: string | undefined): string[] {
  const secrets = [apiKey];
  if (baseURL) {
    try {
      const url = new URL(baseURL);
      secrets.push(url.username, url.password, ...decoded(url.username), ...decoded(url.password));
      for (const [, value] of url.searchParams) secrets.push(value, encodeURIComponent(value));
      for (const pair of url.search.slice(1).split('&')) secrets.push(pair.slice(pair.indexOf('=') + 1));
    } catch {
      // not a URL: the config check refuses it before any call
    }
  }
  return [...new Set(secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}

/** `text` with each secret, and the user information of any URL in it, replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1***@');
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/**
 * An error for an AgentError's `cause`, which the log shows: the name of `error`, and as message
 * the messages of its cause chain (the useful part of a connection error is usually a level or
 * two down, e.g. `connect ECONNREFUSED 10.0.0.5:8000`), all with the secrets taken out.
 */
export class RedactedCause extends Error {
  constructor(error: unknown, secrets: readonly string[]) {
    const chain: string[] = [];
    let cause: unknown = error;
    for (let depth = 0; depth < CAUSE_CHAIN_DEPTH && cause !== undefined; depth++) {
      chain.push(depth === 0 ? messageOf(cause) : `${isError(cause) ? `${nameOf(cause)}: ` : ''}${messageOf(cause)}`);
      cause = isError(cause) ? cause.cause : undefined;
    }
    super(redact(chain.join(' <- '), secrets));
    this.name = isError(error) ? nameOf(error) : 'Error';
    if (isError(error) && typeof error.stack === 'string') this.stack = redact(error.stack, secrets);
  }
}

/** Duck-typed: errors from node:net and friends come from another realm under jest's VM modules. */
function isError(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** The SDK's errors keep the name `Error`; their class says more (APIConnectionError). */
function nameOf(error: Error): string {
  return error.name && error.name !== 'Error' ? error.name : (error.constructor?.name ?? 'Error');
}

function messageOf(error: unknown): string {
  if (isError(error)) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

function decoded(text: string): string[] {
  try {
    return [decodeURIComponent(text)];
  } catch {
    return [];
  }
}
