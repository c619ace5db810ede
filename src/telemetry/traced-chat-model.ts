import { type Attributes, context, type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ChatModel, ConversationTurn, ModelChunk, ModelRequest, ToolCallDelta } from '../agent/chat-model.js';
import { CANCELLED, CONVERSATION_KEY, ERROR_TYPE, GEN_AI, INSTRUMENTATION_SCOPE, SERVER_ADDRESS, SERVER_PORT } from './gen-ai-conventions.js';
import { chatMetrics } from './gen-ai-metrics.js';
import type { ModelConfig } from '../config/app-config.js';
import { errorTypeOf } from './error-type.js';
import { startedTelemetry } from './telemetry-config.js';

export interface TracedChatModelOptions {
  /** `gen_ai.provider.name`: `openai` for any OpenAI-compatible server. */
  readonly provider: string;
  /** The model server, as `server.address` and `server.port`. */
  readonly server?: { readonly address: string; readonly port: number } | undefined;
  /** Put the messages on the span (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true); never by default. */
  readonly captureMessageContent: boolean;
}

/**
 * A ChatModel that records each call as a `chat {model}` span (kind CLIENT, GenAI conventions)
 * and in the GenAI client metrics, and passes every chunk on unchanged. The inner model runs in
 * the span's context, so the HTTP request to the model server is the span's child and carries
 * its `traceparent`. A call its signal stopped ends quietly, as models do, with `error.type`
 * `cancelled`; a failure is rethrown as it came.
 */
export class TracedChatModel implements ChatModel {
  private readonly tracer = trace.getTracer(INSTRUMENTATION_SCOPE);

  constructor(
    private readonly inner: ChatModel,
    private readonly options: TracedChatModelOptions,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get offline(): boolean {
    return this.inner.offline;
  }

  async *streamText(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    const parent = context.active();
    const common: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'chat',
      [GEN_AI.PROVIDER_NAME]: this.options.provider,
      [GEN_AI.REQUEST_MODEL]: this.inner.name,
      ...(this.options.server && { [SERVER_ADDRESS]: this.options.server.address, [SERVER_PORT]: this.options.server.port }),
    };
    const conversationId = parent.getValue(CONVERSATION_KEY);
    const span = this.tracer.startSpan(
      `chat ${this.inner.name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...common,
          [GEN_AI.REQUEST_STREAM]: true,
          ...(typeof conversationId === 'string' && { [GEN_AI.CONVERSATION_ID]: conversationId }),
        },
      },
      parent,
    );
    const capture = this.options.captureMessageContent && span.isRecording();
    if (capture) recordInput(span, request);
    const inSpan = trace.setSpan(parent, span);
    const startedAt = performance.now();
    const call = new CallRecord();
    let failure: unknown;
    let completed = false;
    try {
      for await (const chunk of inContext(inSpan, () => this.inner.streamText(request, signal))) {
        call.note(chunk, capture, startedAt);
        yield chunk;
      }
      completed = true;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // Not completed and no failure: the consumer stopped reading (it does once the signal aborts).
      const errorType = failure !== undefined ? errorTypeOf(failure) : signal.aborted || !completed ? CANCELLED : undefined;
      this.finish(span, common, call, performance.now() - startedAt, errorType, failure, capture);
    }
  }

  private finish(span: Span, common: Attributes, call: CallRecord, elapsedMs: number, errorType: string | undefined, failure: unknown, capture: boolean): void {
    const responseModel = call.responseModel;
    const attributes: Attributes = { ...common, ...(responseModel && { [GEN_AI.RESPONSE_MODEL]: responseModel }) };
    if (call.finishReason) span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [call.finishReason]);
    if (call.responseId) span.setAttribute(GEN_AI.RESPONSE_ID, call.responseId);
    if (responseModel) span.setAttribute(GEN_AI.RESPONSE_MODEL, responseModel);
    if (call.firstChunkMs !== undefined) span.setAttribute(GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK, call.firstChunkMs / 1000);
    if (call.usage) {
      span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, call.usage.promptTokens);
      span.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, call.usage.completionTokens);
    }
    if (capture) span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify([call.outputMessage()]));
    if (errorType) {
      span.setAttribute(ERROR_TYPE, errorType);
      // A stop is not a failure of the call: the status stays unset, error.type says what happened.
      if (failure !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, ...(failure instanceof Error && { message: failure.message }) });
      }
    }
    span.end();

    const metrics = chatMetrics();
    metrics.operationDuration.record(elapsedMs / 1000, errorType ? { ...attributes, [ERROR_TYPE]: errorType } : attributes);
    if (call.firstChunkMs !== undefined) metrics.timeToFirstChunk.record(call.firstChunkMs / 1000, attributes);
    if (call.usage) {
      metrics.tokenUsage.record(call.usage.promptTokens, { ...attributes, [GEN_AI.TOKEN_TYPE]: 'input' });
      metrics.tokenUsage.record(call.usage.completionTokens, { ...attributes, [GEN_AI.TOKEN_TYPE]: 'output' });
    }
  }
}

/** What one call has returned so far: enough for the span, the metrics and (opt-in) the output message. */
class CallRecord {
  firstChunkMs: number | undefined;
  finishReason: string | undefined;
  responseId: string | undefined;
  responseModel: string | undefined;
  usage: { readonly promptTokens: number; readonly completionTokens: number } | undefined;
  private text = '';
  private readonly toolCalls = new Map<number, { id?: string; name?: string; arguments: string }>();

  note(chunk: ModelChunk, capture: boolean, startedAt: number): void {
    this.firstChunkMs ??= performance.now() - startedAt;
    if ('text' in chunk) {
      if (capture) this.text += chunk.text;
    } else if ('toolCall' in chunk) {
      if (capture) this.noteToolCall(chunk.toolCall);
    } else if ('finish' in chunk) {
      this.finishReason = chunk.finish.reason;
      this.responseId = chunk.finish.responseId ?? this.responseId;
      this.responseModel = chunk.finish.responseModel ?? this.responseModel;
    } else if ('usage' in chunk) {
      this.usage = chunk.usage;
    }
  }

  private noteToolCall(delta: ToolCallDelta): void {
    const call = this.toolCalls.get(delta.index) ?? { arguments: '' };
    if (delta.id) call.id = delta.id;
    if (delta.name) call.name = delta.name;
    if (delta.arguments) call.arguments += delta.arguments;
    this.toolCalls.set(delta.index, call);
  }

  outputMessage(): object {
    const parts: object[] = [];
    if (this.text) parts.push({ type: 'text', content: this.text });
    for (const call of this.toolCalls.values()) parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: parsedOrText(call.arguments) });
    return { role: 'assistant', parts, ...(this.finishReason && { finish_reason: this.finishReason }) };
  }
}

function recordInput(span: Span, request: ModelRequest): void {
  if (request.systemPrompt) span.setAttribute(GEN_AI.SYSTEM_INSTRUCTIONS, JSON.stringify([{ type: 'text', content: request.systemPrompt }]));
  span.setAttribute(GEN_AI.INPUT_MESSAGES, JSON.stringify(request.turns.map(messageOf)));
}

/** A turn in the conventions' message shape: `{role, parts: [{type, …}]}`. */
function messageOf(turn: ConversationTurn): object {
  switch (turn.role) {
    case 'user':
      return { role: 'user', parts: [{ type: 'text', content: turn.content }] };
    case 'model':
      return {
        role: 'assistant',
        parts: [
          ...(turn.content ? [{ type: 'text', content: turn.content }] : []),
          ...(turn.toolCalls ?? []).map((call) => ({ type: 'tool_call', id: call.id, name: call.name, arguments: parsedOrText(call.arguments) })),
        ],
      };
    case 'tool':
      return { role: 'tool', parts: [{ type: 'tool_call_response', id: turn.toolCallId, response: turn.content }] };
  }
}

function parsedOrText(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

/**
 * The iterable `make` returns, made and read inside `ctx`: an async generator's body runs in the
 * context of whoever calls its `next()`, so each call is made in `ctx`, and so is `return()`.
 */
function inContext<T>(ctx: Context, make: () => AsyncIterable<T>): AsyncIterable<T> {
  const iterator = context.with(ctx, () => make()[Symbol.asyncIterator]());
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => context.with(ctx, () => iterator.next()),
      return: (value?: unknown) => context.with(ctx, () => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
    }),
  };
}

/**
 * The model as the app uses it: traced when the SDK runs (traces or metrics), else itself, with
 * no cost. `config` names the provider and the server for the span's attributes.
 */
export function observedChatModel(model: ChatModel, config: ModelConfig): ChatModel {
  const telemetry = startedTelemetry();
  if (!telemetry) return model;
  return new TracedChatModel(model, {
    provider: config.kind === 'openai' ? 'openai' : 'offline',
    ...(config.kind === 'openai' && { server: serverOf(config.baseURL ?? 'https://api.openai.com/v1') }),
    captureMessageContent: telemetry.captureMessageContent,
  });
}

/** `server.address` and `server.port` of the model server's URL (never its user, password or query). */
function serverOf(baseURL: string): { address: string; port: number } | undefined {
  try {
    const url = new URL(baseURL);
    return { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 };
  } catch {
    return undefined;
  }
}
