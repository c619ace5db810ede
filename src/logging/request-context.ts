import { AsyncLocalStorage } from 'node:async_hooks';

/** How an answer stands, as its access line reports it (AnswerRun has this shape). */
export interface AnswerSummary {
  readonly status: string | undefined;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number } | null;
}

/** What the log knows about the request being handled. */
export interface RequestContext {
  /** The client's `x-request-id` when it is sane, else a new UUID; echoed on the response. */
  readonly requestId: string;
  /** The answer this request started, if any, with the model that answers it: its access line reports them. */
  answer?: { readonly model: string; readonly run: AnswerSummary };
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `work`, and everything it starts (an answer that outlives the response included), in `request`. */
export function runInRequest<T>(request: RequestContext, work: () => T): T {
  return storage.run(request, work);
}

/** The request whose handling this code runs for, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
