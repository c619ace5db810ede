/**
 * What a model server says it serves (OpenAI's `GET /v1/models`): a sibling of the ChatModel
 * driver interface, implemented by each driver that can ask.
 */
export interface ModelList {
  /** The model ids the server lists. Fails when the server cannot be asked or answers something else. */
  list(signal: AbortSignal): Promise<string[]>;
}

export const MODEL_LIST = Symbol('MODEL_LIST');
