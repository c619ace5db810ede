/** One turn of the conversation as the model sees it. */
export interface ConversationTurn {
  readonly role: 'user' | 'model';
  readonly content: string;
}

export interface ModelRequest {
  readonly systemPrompt: string | undefined;
  readonly turns: readonly ConversationTurn[];
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** What a model streams: text deltas, and the token usage once the upstream reports it. */
export type ModelChunk = { readonly text: string } | { readonly usage: TokenUsage };

/**
 * A source of streamed answers. Implementations yield chunks in order and stop promptly
 * once `signal` aborts; any other failure is thrown as an AgentError.
 */
export interface ChatModel {
  /** Stored with each answer and shown in the start-up log. */
  readonly name: string;
  readonly offline: boolean;
  streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk>;
}

export const CHAT_MODEL = Symbol('CHAT_MODEL');
