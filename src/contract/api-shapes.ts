// The shapes of every HTTP response body and stream event: the one definition that the server
// (which builds them), the page (public/src/api.ts) and the tests import. Types only, no code,
// so the page's bundle takes nothing from the server but these names. The OpenAPI schemas in
// api-schemas.ts implement these types, so a change here that they miss fails the build.

export type MessageRole = 'user' | 'model';

/** `streaming` while the answer is written; then how it ended. */
export type MessageStatus = 'streaming' | 'complete' | 'interrupted' | 'error';

/** Token counts as the upstream reported them (`stream_options.include_usage`). */
export interface UsageJson {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/**
 * One part of a message, in order: its text, and for answers the tool calls the model made,
 * each followed by its result or error. `input` is the parsed arguments (their raw text when
 * they were not JSON); `output` is what the model was given.
 */
export type MessagePartJson =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool-call'; readonly toolCallId: string; readonly toolName: string; readonly input: unknown }
  | { readonly type: 'tool-result'; readonly toolCallId: string; readonly toolName: string; readonly output: string }
  | { readonly type: 'tool-error'; readonly toolCallId: string; readonly toolName: string; readonly error: string };

/** A stored message, as the REST API returns it. */
export interface MessageJson {
  readonly id: number;
  readonly conversationId: string;
  /** The message this one follows (an answer's prompt, a prompt's previous answer); null for a first prompt. */
  readonly parentId: number | null;
  /** The ids of the messages with the same parent (its branches: edits of a prompt, regenerations of an answer), itself included, oldest first. */
  readonly siblingIds: readonly number[];
  readonly role: MessageRole;
  readonly content: string;
  readonly status: MessageStatus;
  /** What went wrong, for status `error` (and why an answer was `interrupted`, when known). */
  readonly error: string | null;
  /** The model that wrote an answer. */
  readonly model: string | null;
  /** ISO 8601 with microseconds, unique per message. */
  readonly timestamp: string;
  readonly usage: UsageJson | null;
  /** The message in order: text parts and tool steps. `content` is its text, all parts' text joined. */
  readonly parts: readonly MessagePartJson[];
}

export interface ConversationJson {
  readonly id: string;
  readonly title: string | null;
  readonly createdAt: string;
  /** Last activity: lists sort by it, newest first. */
  readonly updatedAt: string;
  /** The end of the active path (what `GET …/messages` shows); null while there are no messages. */
  readonly activeMessageId: number | null;
  /** The model its answers use (one of `GET /api/models`); null: the server's default. */
  readonly model: string | null;
  /** Its system prompt; null: the server's (SYSTEM_PROMPT). */
  readonly systemPrompt: string | null;
}

/** The models a conversation may choose (`GET /api/models`). */
export interface ModelsJson {
  /** What answers a conversation that chose none; always in `models`. */
  readonly default: string;
  readonly models: readonly string[];
  /** Where the list came from: OPENAI_MODELS, the model server's `GET /v1/models`, or OPENAI_MODEL alone. */
  readonly source: 'OPENAI_MODELS' | 'upstream' | 'OPENAI_MODEL';
}

export interface ConversationPageJson {
  readonly items: readonly ConversationJson[];
  /** Pass as `cursor` for the next (older) page; null on the last. */
  readonly nextCursor: string | null;
}

export interface MessagePageJson {
  /** Oldest first. */
  readonly items: readonly MessageJson[];
  /** Pass as `before` for the next (older) page; null on the last. */
  readonly nextBefore: number | null;
}

/** What the page needs to label itself (`GET /api/info`). */
export interface InfoJson {
  readonly model: string;
  readonly offline: boolean;
  readonly allowRemoteImages: boolean;
}

/** Every error response: `{statusCode, error, message}`. */
export interface ErrorJson {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

/** One event of the delta stream (application/x-ndjson, one per line). */
export type DeltaEvent =
  | { readonly type: 'start'; readonly conversationId: string; readonly messageId: number; readonly userMessage: MessageJson }
  /** Only the text that is new since the last delta. */
  | { readonly type: 'delta'; readonly text: string }
  /** A tool call the model made, with its complete arguments; its result or error follows. */
  | { readonly type: 'tool-call'; readonly toolCallId: string; readonly toolName: string; readonly input: unknown }
  | { readonly type: 'tool-result'; readonly toolCallId: string; readonly output: string }
  | { readonly type: 'tool-error'; readonly toolCallId: string; readonly error: string }
  /** The stored answer without its text and parts (the events carried them). */
  | { readonly type: 'done'; readonly message: Omit<MessageJson, 'content' | 'parts'>; readonly usage: UsageJson | null }
  /** `stopped`: ended by a stop request, not by a failure. */
  | { readonly type: 'error'; readonly message: string; readonly messageId: number; readonly stopped?: true };

/** One line of the seed format (text/plain ndjson), as the original example's page renders it. */
export interface SeedLine {
  readonly role: MessageRole | 'error';
  /** One per message: the same on every line of an answer. */
  readonly timestamp: string;
  /** Model lines: all the text so far. */
  readonly content: string;
}
