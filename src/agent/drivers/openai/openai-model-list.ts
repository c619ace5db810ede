import OpenAI from 'openai';
import type { ModelList } from '../../model-list.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import type { OpenAiModelOptions } from './openai-chat-model.js';

/** No picker needs more; a server listing more is cut here. */
const MAX_MODELS = 500;

/** `GET /v1/models` of an OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp and LM Studio all serve it). */
export class OpenAiModelList implements ModelList {
  private readonly client: OpenAI;

  constructor(options: OpenAiModelOptions) {
    this.client = new OpenAI({
      apiKey: options.apiKey ?? 'no-key-needed',
      baseURL: options.baseURL,
      maxRetries: 0,
      fetch: options.httpClient === 'fetch' ? undefined : createNodeHttpFetch(),
    });
  }

  async list(signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    for await (const model of this.client.models.list({ signal })) {
      if (typeof model.id === 'string' && model.id.length > 0 && model.id.length <= 200) ids.push(model.id);
      if (ids.length >= MAX_MODELS) break;
    }
    return ids;
  }
}
