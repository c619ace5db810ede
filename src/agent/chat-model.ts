/** One turn of the conversation as the model sees it. */
export interface ConversationTurn {
  readonly role: 'user' | 'model';
  readonly content: string;
}

export interface ModelRequest {
  readonly systemPrompt: string | undefined;
  readonly turns: readonly ConversationTurn[];
}

/**
 * A source of streamed answers. Implementations yield text deltas in order and stop
 * promptly once `signal` aborts; any other failure is thrown as an AgentError.
 */
export interface ChatModel {
  /** Stored with each answer and shown in the start-up log. */
  readonly name: string;
  readonly offline: boolean;
  streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<string>;
}

export const CHAT_MODEL = Symbol('CHAT_MODEL');
