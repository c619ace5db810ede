import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type InMemoryTelemetry, startInMemoryTelemetry } from '../../test/support/in-memory-telemetry.js';
import { ToolError } from '../tools/tool-source.js';
import { CONVERSATION_KEY } from './gen-ai-conventions.js';
import { shutdownTelemetry } from './telemetry-config.js';
import { traceToolCall } from './tool-tracing.js';

describe('traceToolCall', () => {
  let telemetry: InMemoryTelemetry;
  beforeEach(() => (telemetry = startInMemoryTelemetry()));
  afterEach(() => telemetry.shutdown());

  it('runs the call as `execute_tool {name}`, a child of the answer’s span, with the GenAI tool attributes, and resolves with its result', async () => {
    const answer = trace.getTracer('test').startSpan('invoke_agent chat-app');
    const inAnswer = trace.setSpan(context.active(), answer).setValue(CONVERSATION_KEY, 'c0ffee00-0000-4000-8000-000000000002');
    let activeInTool: string | undefined;
    const result = await context.with(inAnswer, () =>
      traceToolCall('calculator', 'call_7', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        activeInTool = trace.getActiveSpan()?.spanContext().spanId;
        return { value: 4 };
      }),
    );
    answer.end();

    expect(result).toEqual({ value: 4 });
    const span = telemetry.span('execute_tool calculator');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.parentSpanContext?.spanId).toBe(answer.spanContext().spanId);
    expect(activeInTool).toBe(span.spanContext().spanId); // what the tool calls (an MCP server over HTTP) is the tool span's child
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'gen_ai.tool.call.id': 'call_7',
      'gen_ai.tool.type': 'function',
      'gen_ai.conversation.id': 'c0ffee00-0000-4000-8000-000000000002',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a failing tool: rejects with its error, error.type is the error’s class, the span status ERROR', async () => {
    const failure = new ToolError('No such city');
    await expect(traceToolCall('weather', 'call_8', () => Promise.reject(failure))).rejects.toBe(failure);
    const span = telemetry.span('execute_tool weather');
    expect(span.attributes['error.type']).toBe('ToolError');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'No such city' });
  });

  it('an aborted tool call is error.type AbortError', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(traceToolCall('slow', 'call_9', () => Promise.reject(abort.signal.reason as Error))).rejects.toThrow();
    expect(telemetry.span('execute_tool slow').attributes['error.type']).toBe('AbortError');
  });

  it('a result the caller names a failure (a tool error the model reads): resolves with it, the span status ERROR', async () => {
    const outcome = { error: 'The tool did not finish within 30 s' };
    await expect(
      traceToolCall('slow', 'call_11', () => Promise.resolve(outcome), (result) => ({ type: 'tool_error', message: result.error })),
    ).resolves.toBe(outcome);
    const span = telemetry.span('execute_tool slow');
    expect(span.attributes['error.type']).toBe('tool_error');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'The tool did not finish within 30 s' });
  });

  it('without the SDK: just the call, no span', async () => {
    await shutdownTelemetry();
    await expect(traceToolCall('calculator', 'call_10', () => Promise.resolve(4))).resolves.toBe(4);
    expect(telemetry.spans()).toEqual([]);
  });
});
