/**
 * `error.type` for a failure: a class of error, never a message (it is a metric attribute, and
 * must stay low in cardinality). For an AgentError, the class of its cause when it has one (the
 * openai SDK's InternalServerError, RateLimitError, APIConnectionError, …): AgentError alone
 * says only that the model call failed.
 */
export function errorTypeOf(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER';
  const cause = error.cause;
  if (error.name === 'AgentError' && cause instanceof Error && cause.name && cause.name !== 'Error') return cause.name;
  return error.name && error.name !== 'Error' ? error.name : (error.constructor?.name ?? 'Error');
}
