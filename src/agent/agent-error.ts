/** A failed model call, with a message fit to show the user (no internals, no stack). */
export class AgentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
  }
}
