import type { IncomingMessage } from 'node:http';
import OpenAI from 'openai';
import type { Stream } from 'openai/streaming';
import { VERSION } from 'openai/version';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { AgentError, RedactedCause, redact, secretsOf } from '../../agent-error.js';
import { createNodeHttpFetch, deferredBody, nodeBodyOf, type RequestBody } from './node-http-fetch.js';
import { eventSizeLimit, MAX_EVENT_BYTES, SseDecoder, UpstreamEventTooLargeError, UpstreamStreamError } from './server-sent-events.js';
import type { ChatModel, ModelChunk, ModelRequest } from '../../chat-model.js';

export interface OpenAiModelOptions {
  readonly apiKey: string | undefined;
  readonly baseURL: string | undefined;
  readonly model: string;
  /** 'node': the SDK fetches over node:http (createNodeHttpFetch); 'fetch': Node's built-in fetch. */
  readonly httpClient?: 'node' | 'fetch';
}

const UPSTREAM_MESSAGE_MAX_CHARS = 300;

/** A call whose response is an event stream: read by the SDK's reader (`fetch`), or off the socket. */
type SentCall = { readonly stream: Stream<ChatCompletionChunk> } | { readonly body: IncomingMessage };

/** Not transient: the same server sends the same again, so none of these is retried. */
const NO_ANSWER = 'The model server ended the stream without an answer (no text, no finish reason).';
const TOO_LARGE = `The model server sent an event over ${MAX_EVENT_BYTES / 1024 / 1024} MiB, which no answer chunk needs; reading stopped there.`;

/**
 * The SDK's client, with a body made by createNodeHttpFetch as it sends the request in place of
 * the SDK's own for the calls given one (`defer`): through `prepareRequest`, the SDK's hook for
 * changing a request before it is sent.
 */
class DeferringOpenAI extends OpenAI {
  private readonly deferred = new WeakMap<object, RequestBody>();

  /** `make` gives the body to send for the call whose parameters are `params` (passed to the SDK as they are). */
  defer(params: object, make: () => string): void {
    this.deferred.set(params, deferredBody(make));
  }

  protected override prepareRequest(request: RequestInit, details: { url: string; options: { readonly body?: unknown } }): Promise<void> {
    const params = details.options.body;
    if (typeof params !== 'object' || params === null) return Promise.resolve();
    const body = this.deferred.get(params);
    if (body) request.body = body;
    // A call without messages is one whose deferred body was lost (an SDK that copied the
    // parameters on the way here): sent, the model would answer a conversation it never saw.
    else if ('messages' in params && Array.isArray(params.messages) && params.messages.length === 0) {
      return Promise.reject(new AgentError('The request to the model lost its messages on the way through the openai SDK; nothing was sent.'));
    }
    return Promise.resolve();
  }
}

/** Streams from `chat.completions`, the API every OpenAI-compatible server implements. */
export class OpenAiChatModel implements ChatModel {
  readonly offline = false;
  private readonly client: DeferringOpenAI;
  /** Taken out of everything this model puts in an error: users, the database and the log see errors. */
  private readonly secrets: readonly string[];

  constructor(private readonly options: OpenAiModelOptions) {
    this.secrets = secretsOf(options.apiKey, options.baseURL);
    this.client = new DeferringOpenAI({
      // Local servers (Ollama, llama.cpp, vLLM) need no key, but the SDK insists on one.
      apiKey: options.apiKey ?? 'no-key-needed',
      // The SDK names its User-Agent after the client's class, which here is its subclass.
      defaultHeaders: { 'User-Agent': `OpenAI/JS ${VERSION}` },
      baseURL: options.baseURL,
      // A retry after tokens were shown would duplicate them; failures surface as an error line instead.
      maxRetries: 0,
      fetch: options.httpClient === 'fetch' ? fetchWithEventSizeLimit() : createNodeHttpFetch(),
    });
  }

  get name(): string {
    return this.options.model;
  }

  streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    // Sent here, outside the generator that reads the answer: a generator keeps its arguments
    // until it ends, and the conversation is most of what a running answer would hold.
    const sent = this.send(request, signal);
    sent.catch(() => undefined); // read (and its failure thrown) by the generator, which is iterated at once
    return this.read(sent, signal);
  }

  /** Sends the call; resolves with the response once its headers came, an event stream. */
  private async send(request: ModelRequest, signal: AbortSignal): Promise<SentCall> {
    const tools: ChatCompletionTool[] | undefined = request.tools?.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    const model = request.model ?? this.options.model;
    // include_usage: the last chunk then carries the token counts (no choices).
    const params = { ...(tools && { tools }), stream: true as const, stream_options: { include_usage: true } };
    if (this.options.httpClient === 'fetch') {
      const call = this.client.chat.completions.create({ model, messages: messagesOf(request), ...params }, { signal });
      const { data: stream, response } = await call.withResponse();
      if (!isEventStream(response)) {
        stream.controller.abort();
        throw notAnEventStream(response);
      }
      return { stream };
    }
    // The SDK sends the request and turns HTTP errors into APIErrors; the body is then read
    // straight off the socket, a fraction of the SDK's web-stream reader per token (README, Performance).
    // The request's body, the whole context, is made by the fetch as it sends the request: the SDK
    // would make it here and keep it, with the messages made for it, until the response's headers
    // come, which in a burst of answers is most of what the heap holds (README, Performance). The
    // SDK makes its body from the call without its messages, and the client puts the real one in its
    // place (so the SDK's own debug log, OPENAI_LOG=debug, shows the call without them).
    const withoutMessages = { model, messages: [], ...params };
    this.client.defer(withoutMessages, () => JSON.stringify({ model, messages: messagesOf(request), ...params }));
    const call = this.client.chat.completions.create(withoutMessages, { signal });
    const response = await call.asResponse();
    const body = nodeBodyOf(response);
    if (!body) throw new Error('createNodeHttpFetch did not make this response');
    if (!isEventStream(response)) {
      body.destroy();
      throw notAnEventStream(response);
    }
    return { body };
  }

  private async *read(sent: Promise<SentCall>, signal: AbortSignal): AsyncIterable<ModelChunk> {
    let started = false;
    // Text or a finish_reason: an answer, if an empty one. A stream with neither said nothing at all.
    let answered = false;
    const chunksOf = (chunk: ChatCompletionChunk): ModelChunk[] => {
      answered ||= chunk.choices?.some((choice) => choice.finish_reason != null) ?? false;
      return modelChunksOf(chunk);
    };
    try {
      const call = await sent;
      if ('stream' in call) {
        for await (const chunk of call.stream) {
          for (const modelChunk of chunksOf(chunk)) {
            started ||= 'text' in modelChunk;
            yield modelChunk;
          }
        }
      } else {
        const { body } = call;
        body.setEncoding('utf8');
        const events = new SseDecoder(MAX_EVENT_BYTES);
        let done = false;
        try {
          // Not destroyed when left at [DONE]: destroying it cost the answer's end 0.2-0.5 ms and the
          // keep-alive socket with it (README, Performance).
          reading: for await (const text of body.iterator({ destroyOnReturn: false }) as AsyncIterable<string>) {
            for (const data of events.push(text)) {
              if (data === '[DONE]') {
                done = true;
                break reading;
              }
              for (const modelChunk of chunksOf(parseChunk(data))) {
                started ||= 'text' in modelChunk;
                yield modelChunk;
              }
            }
          }
        } finally {
          // Left early (a failure, or the reader gone): nothing more is wanted from this response.
          if (done) drainAfterDone(body);
          else body.destroy();
        }
        if (!done) {
          for (const data of events.end()) {
            if (data === '[DONE]') continue;
            for (const modelChunk of chunksOf(parseChunk(data))) {
              started ||= 'text' in modelChunk;
              yield modelChunk;
            }
          }
        }
      }
      if (!started && !answered) throw new AgentError(NO_ANSWER);
    } catch (error) {
      if (signal.aborted) return;
      throw this.describe(error, started);
    }
  }

  /**
   * The AgentError for a failure: a message for users that names no address (clients see it, and
   * it is stored), and as cause the failure as the log should show it, secrets taken out.
   */
  private describe(error: unknown, started: boolean): AgentError {
    if (error instanceof AgentError) return error; // made here, with a message fit as it is
    const cause = new RedactedCause(error, this.secrets);
    // Only a failure before the first token may be retried: a retry after it would repeat text.
    const retry = (message: string) => new AgentError(message, { cause, retryable: !started });
    const final = (message: string) => new AgentError(message, { cause });
    if (error instanceof OpenAI.APIConnectionTimeoutError) return retry('The model server did not answer in time.');
    if (error instanceof OpenAI.APIConnectionError) return retry('The model server could not be reached.');
    if (error instanceof OpenAI.APIError) {
      const detail = redact(upstreamDetail(error), this.secrets);
      switch (error.status) {
        case undefined:
          return final(`The model server reported an error${detail}`);
        case 401:
          return final('The model server rejected the API key (HTTP 401). Check OPENAI_API_KEY.');
        case 403:
          return final(`The model server refused the request (HTTP 403)${detail}`);
        case 404:
          return final(`The model server has no model "${this.options.model}" (HTTP 404). Check OPENAI_MODEL and OPENAI_BASE_URL.`);
        case 429:
          return retry('The model server is rate limiting requests (HTTP 429). Try again shortly.');
        default:
          return error.status >= 500
            ? retry(`The model server failed (HTTP ${error.status}). Try again.`)
            : final(`The model server rejected the request (HTTP ${error.status})${detail}`);
      }
    }
    if (error instanceof SyntaxError) return final('The model server sent malformed data.');
    if (error instanceof UpstreamStreamError) return final(`The model server reported an error: ${clip(redact(error.message, this.secrets))}`);
    if (error instanceof UpstreamEventTooLargeError) return final(TOO_LARGE);
    return started
      ? final('The connection to the model server broke off before the answer was complete.')
      : retry('The model server sent a response that could not be read.');
  }
}

/** How long what follows [DONE] may take to arrive (normally only the response's end) before the socket is cut off. */
const DRAIN_AFTER_DONE_MS = 5_000;

/**
 * Reads what follows [DONE] in the background, so that the socket goes back to the keep-alive
 * pool once the response ends; an upstream that keeps the response open is cut off.
 */
function drainAfterDone(body: IncomingMessage): void {
  if (body.destroyed) return;
  const cutOff = setTimeout(() => body.destroy(), DRAIN_AFTER_DONE_MS);
  cutOff.unref();
  body.once('close', () => clearTimeout(cutOff));
  // The answer is complete: a socket failing after it changes nothing (and must not go unhandled).
  body.on('error', () => undefined);
  body.resume();
}

/** `text/event-stream`, with or without parameters such as `; charset=utf-8`. */
function isEventStream(response: Response): boolean {
  return mediaTypeOf(response) === 'text/event-stream';
}

function mediaTypeOf(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** A 200 that is no stream of chunks: a proxy's login page, say, or a server that ignored `stream: true`. */
function notAnEventStream(response: Response): AgentError {
  const type = mediaTypeOf(response);
  const shown = /^[a-z0-9!#$&^_.+-]{1,60}\/[a-z0-9!#$&^_.+-]{1,60}$/.test(type) ? type : type ? 'an unknown content type' : 'no content type';
  return new AgentError(`The model server answered with ${shown}, not an event stream. Check OPENAI_BASE_URL.`);
}

/** Node's fetch, for the SDK's own stream reader, with the event size limit that reader lacks. */
function fetchWithEventSizeLimit(): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    return new Response(response.body.pipeThrough(eventSizeLimit(MAX_EVENT_BYTES)), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function parseChunk(data: string): ChatCompletionChunk {
  const chunk = JSON.parse(data) as ChatCompletionChunk | { error: unknown };
  if ('error' in chunk && chunk.error) throw new UpstreamStreamError(chunk);
  return chunk as ChatCompletionChunk;
}

/** The conversation in the chat.completions shape: each model step with its tool calls, then one tool message per call. */
function messagesOf(request: ModelRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.systemPrompt) messages.push({ role: 'system', content: request.systemPrompt });
  for (const turn of request.turns) {
    switch (turn.role) {
      case 'user':
        messages.push({ role: 'user', content: turn.content });
        break;
      case 'model':
        messages.push(
          turn.toolCalls && turn.toolCalls.length > 0
            ? {
                role: 'assistant',
                content: turn.content || null,
                tool_calls: turn.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
              }
            : { role: 'assistant', content: turn.content },
        );
        break;
      case 'tool':
        messages.push({ role: 'tool', tool_call_id: turn.toolCallId, content: turn.content });
        break;
    }
  }
  return messages;
}

function modelChunksOf(chunk: ChatCompletionChunk): ModelChunk[] {
  const out: ModelChunk[] = [];
  const choice = chunk.choices[0];
  const delta = choice?.delta?.content;
  if (delta) out.push({ text: delta });
  for (const call of choice?.delta?.tool_calls ?? []) {
    out.push({ toolCall: { index: call.index, ...(call.id && { id: call.id }), ...(call.function?.name && { name: call.function.name }), ...(call.function?.arguments && { arguments: call.function.arguments }) } });
  }
  if (choice?.finish_reason) out.push({ finish: { reason: choice.finish_reason, ...(chunk.id && { responseId: chunk.id }), ...(chunk.model && { responseModel: chunk.model }) } });
  if (chunk.usage) out.push({ usage: { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } });
  return out;
}

function clip(message: string): string {
  return message.length > UPSTREAM_MESSAGE_MAX_CHARS ? `${message.slice(0, UPSTREAM_MESSAGE_MAX_CHARS)}…` : message;
}

function upstreamDetail({ error: body }: { error?: unknown }): string {
  const message = typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string' ? body.message : undefined;
  if (!message) return '.';
  const clipped = message.length > UPSTREAM_MESSAGE_MAX_CHARS ? `${message.slice(0, UPSTREAM_MESSAGE_MAX_CHARS)}…` : message;
  return `: ${clipped}`;
}
