interface Named {
  readonly name: string;
  readonly cause?: unknown;
}

/** Duck-typed: errors of node:net, fetch and AbortSignal (DOMException) may come from another realm (jest's VM modules). */
function isNamed(value: unknown): value is Named {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}

/**
 * `error.type` for a failure: a class of error, never a message (it is a metric attribute, and
 * must stay low in cardinality). For an AgentError, the class of its cause when it has one (the
 * openai SDK's InternalServerError, RateLimitError, APIConnectionError, …): AgentError alone
 * says only that the model call failed.
 */
export function errorTypeOf(error: unknown): string {
  if (!isNamed(error)) return '_OTHER';
  const cause = error.cause;
  if (error.name === 'AgentError' && isNamed(cause) && cause.name && cause.name !== 'Error') return cause.name;
  if (error.name && error.name !== 'Error') return error.name;
  return (error as { constructor?: { name?: string } }).constructor?.name ?? 'Error';
}
