import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { histogramPoints, type InMemoryTelemetry, startInMemoryTelemetry } from '../../test/support/in-memory-telemetry.js';
import { AgentError } from '../agent/agent-error.js';
import type { ChatModel, ModelChunk, ModelRequest } from '../agent/chat-model.js';
import { CONVERSATION_KEY } from './gen-ai-conventions.js';
import { TracedChatModel } from './traced-chat-model.js';

const REQUEST: ModelRequest = {
  systemPrompt: 'Be brief.',
  turns: [
    { role: 'user', content: 'What is 2+2?' },
    { role: 'model', content: '', toolCalls: [{ id: 'call_1', name: 'calculator', arguments: '{"expression":"2+2"}' }] },
    { role: 'tool', toolCallId: 'call_1', content: '4' },
  ],
};

const ANSWER: ModelChunk[] = [
  { text: 'It is ' },
  { text: '4.' },
  { finish: { reason: 'stop', responseId: 'chatcmpl-42', responseModel: 'gpt-4o-mini-2024-07-18' } },
  { usage: { promptTokens: 31, completionTokens: 4 } },
];

/** A model that yields `chunks` (then throws `failure`, if given), noting the span active while it runs. */
class ScriptedModel implements ChatModel {
  readonly name = 'gpt-4o-mini';
  readonly offline = false;
  activeSpanIds: (string | undefined)[] = [];

  constructor(
    private readonly chunks: readonly ModelChunk[],
    private readonly failure?: Error,
  ) {}

  async *streamText(_request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    for (const chunk of this.chunks) {
      this.activeSpanIds.push(trace.getActiveSpan()?.spanContext().spanId);
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) return; // models end quietly once their signal aborts
      yield chunk;
    }
    if (this.failure) throw this.failure;
  }
}

const traced = (inner: ChatModel, captureMessageContent = false) =>
  new TracedChatModel(inner, { provider: 'openai', server: { address: 'llm.internal', port: 8000 }, captureMessageContent });

async function drain(model: ChatModel, signal = new AbortController().signal): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const chunk of model.streamText(REQUEST, signal)) out.push(chunk);
  return out;
}

describe('TracedChatModel', () => {
  let telemetry: InMemoryTelemetry;
  beforeEach(() => (telemetry = startInMemoryTelemetry()));
  afterEach(() => telemetry.shutdown());

  it('records a call as a CLIENT span `chat {model}` with the GenAI attributes, the inner model running in it, and passes every chunk on', async () => {
    const inner = new ScriptedModel(ANSWER);
    const parent = trace.getTracer('test').startSpan('invoke_agent chat-app');
    const inAnswer = trace.setSpan(context.active(), parent).setValue(CONVERSATION_KEY, 'c0ffee00-0000-4000-8000-000000000001');
    const chunks = await context.with(inAnswer, () => drain(traced(inner)));
    parent.end();

    expect(chunks).toEqual(ANSWER);
    const span = telemetry.span('chat gpt-4o-mini');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.stream': true,
      'gen_ai.conversation.id': 'c0ffee00-0000-4000-8000-000000000001',
      'server.address': 'llm.internal',
      'server.port': 8000,
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.id': 'chatcmpl-42',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.time_to_first_chunk': expect.any(Number),
      'gen_ai.usage.input_tokens': 31,
      'gen_ai.usage.output_tokens': 4,
    });
    // The HTTP request an inner model makes is the chat span's child.
    expect(new Set(inner.activeSpanIds)).toEqual(new Set([span.spanContext().spanId]));
  });

  it('records tokens by type, the duration and the time to first chunk in the GenAI client metrics', async () => {
    await drain(traced(new ScriptedModel(ANSWER)));
    await drain(traced(new ScriptedModel(ANSWER)));
    const common = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'server.address': 'llm.internal',
      'server.port': 8000,
    };
    expect(histogramPoints(await telemetry.metric('gen_ai.client.token.usage'))).toEqual([
      { attributes: { ...common, 'gen_ai.token.type': 'input' }, count: 2, sum: 62 },
      { attributes: { ...common, 'gen_ai.token.type': 'output' }, count: 2, sum: 8 },
    ]);
    expect(histogramPoints(await telemetry.metric('gen_ai.client.operation.duration'))).toEqual([{ attributes: common, count: 2, sum: expect.any(Number) }]);
    expect(histogramPoints(await telemetry.metric('gen_ai.client.operation.time_to_first_chunk'))).toEqual([{ attributes: common, count: 2, sum: expect.any(Number) }]);
    expect((await telemetry.metric('gen_ai.client.token.usage'))?.descriptor.unit).toBe('{token}');
    expect((await telemetry.metric('gen_ai.client.operation.duration'))?.descriptor.unit).toBe('s');
  });

  it('an upstream error: rethrown as it came, error.type is the class of its cause, the span status ERROR', async () => {
    const cause = Object.assign(new Error('500 upstream exploded'), { name: 'InternalServerError' });
    const failure = new AgentError('The model server failed (HTTP 500). Try again.', { cause, retryable: true });
    const model = traced(new ScriptedModel([{ text: 'par' }], failure));

    await expect(drain(model)).rejects.toBe(failure);
    const span = telemetry.span('chat gpt-4o-mini');
    expect(span.attributes['error.type']).toBe('InternalServerError');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'The model server failed (HTTP 500). Try again.' });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(histogramPoints(await telemetry.metric('gen_ai.client.operation.duration'))).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ 'error.type': 'InternalServerError' }), count: 1 }),
    ]);
    expect(await telemetry.metric('gen_ai.client.token.usage')).toBeUndefined();
  });

  it('an AgentError with no cause (a timeout, no answer) is error.type AgentError', async () => {
    await expect(drain(traced(new ScriptedModel([], new AgentError('The model server sent nothing for 60 s.'))))).rejects.toThrow('sent nothing');
    expect(telemetry.span('chat gpt-4o-mini').attributes['error.type']).toBe('AgentError');
  });

  it('a client abort: the call ends quietly, error.type `cancelled`, the status left unset (a stop is no failure)', async () => {
    const abort = new AbortController();
    const received: ModelChunk[] = [];
    for await (const chunk of traced(new ScriptedModel(ANSWER)).streamText(REQUEST, abort.signal)) {
      received.push(chunk);
      abort.abort();
    }
    expect(received).toEqual([ANSWER[0]]);
    const span = telemetry.span('chat gpt-4o-mini');
    expect(span.attributes['error.type']).toBe('cancelled');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('a reader that stops reading (it breaks out once its signal aborts) ends the span as cancelled, and the inner model is closed', async () => {
    let innerClosed = false;
    const inner: ChatModel = {
      name: 'gpt-4o-mini',
      offline: false,
      async *streamText() {
        try {
          yield await Promise.resolve({ text: 'a' });
          yield { text: 'b' };
        } finally {
          innerClosed = true;
        }
      },
    };
    for await (const chunk of traced(inner).streamText(REQUEST, new AbortController().signal)) {
      expect(chunk).toEqual({ text: 'a' });
      break;
    }
    expect(innerClosed).toBe(true);
    expect(telemetry.span('chat gpt-4o-mini').attributes['error.type']).toBe('cancelled');
  });

  it('puts no message content on spans by default', async () => {
    await drain(traced(new ScriptedModel(ANSWER)));
    const attributes = telemetry.span('chat gpt-4o-mini').attributes;
    expect(Object.keys(attributes).filter((key) => /messages|instructions/.test(key))).toEqual([]);
    expect(JSON.stringify(attributes)).not.toContain('2+2');
  });

  it('with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: the input, system and output messages in the conventions’ shape', async () => {
    await drain(traced(new ScriptedModel([{ toolCall: { index: 0, id: 'call_2', name: 'clock', arguments: '{"tz":' } }, { toolCall: { index: 0, arguments: '"UTC"}' } }, ...ANSWER]), true));
    const attributes = telemetry.span('chat gpt-4o-mini').attributes;
    expect(JSON.parse(attributes['gen_ai.system_instructions'] as string)).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(JSON.parse(attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'What is 2+2?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'calculator', arguments: { expression: '2+2' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '4' }] },
    ]);
    expect(JSON.parse(attributes['gen_ai.output.messages'] as string)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'It is 4.' },
          { type: 'tool_call', id: 'call_2', name: 'clock', arguments: { tz: 'UTC' } },
        ],
        finish_reason: 'stop',
      },
    ]);
  });
});
