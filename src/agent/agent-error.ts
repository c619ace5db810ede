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
