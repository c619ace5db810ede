import type { ToolDefinition } from '../tools/tool-source.js';

/** A tool call the model made: its id (the model's), the tool's name, and the arguments as the model wrote them (JSON text). */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/**
 * One message of the conversation as the model sees it: a prompt, one model step (its text and
 * the tool calls it made), or the result of one tool call.
 */
export type ConversationTurn =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'model'; readonly content: string; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string };

export interface ModelRequest {
  /** The model to ask, when the conversation chose one; left out: the driver's own (`name`). */
  readonly model?: string;
  readonly systemPrompt: string | undefined;
  readonly turns: readonly ConversationTurn[];
  /** The tools the model may call in this step (none: no `tools` in the request). */
  readonly tools?: readonly ToolDefinition[];
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/**
 * A piece of a tool call as it streams: `id` and `name` come in the first piece for an `index`,
 * `arguments` in pieces to be joined in order.
 */
export interface ToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly name?: string;
  readonly arguments?: string;
}

/** How a model call ended, as the upstream said (`stop`, `length`, `tool_calls`, …), and what answered it. */
export interface ModelFinish {
  readonly reason: string;
  readonly responseId?: string;
  readonly responseModel?: string;
}

/** What a model streams: text deltas, tool call pieces, how it finished, and the token usage once reported. */
export type ModelChunk =
  | { readonly text: string }
  | { readonly toolCall: ToolCallDelta }
  | { readonly finish: ModelFinish }
  | { readonly usage: TokenUsage };

/**
 * A source of streamed answers. Implementations yield chunks in order and stop promptly
 * once `signal` aborts; any other failure is thrown as an AgentError. `streamText` may send the
 * call at once rather than on the first read, so that what reads the answer need not keep the
 * request (a generator keeps its arguments until it ends): iterate what it returns, or abort.
 */
export interface ChatModel {
  /** Stored with each answer and shown in the start-up log. */
  readonly name: string;
  readonly offline: boolean;
  streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk>;
}

export const CHAT_MODEL = Symbol('CHAT_MODEL');
