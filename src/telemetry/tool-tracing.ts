import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { CONVERSATION_KEY, ERROR_TYPE, GEN_AI, INSTRUMENTATION_SCOPE } from './gen-ai-conventions.js';
import { errorTypeOf } from './error-type.js';
import { startedTelemetry } from './telemetry-config.js';

/**
 * Runs one tool call as an `execute_tool {toolName}` span (GenAI conventions: `gen_ai.tool.name`,
 * `gen_ai.tool.call.id`, `gen_ai.tool.type`, and the answer's `gen_ai.conversation.id`), a child
 * of the answer's `invoke_agent` span when called inside it. Resolves or rejects as `fn` does; a
 * rejection sets `error.type` (the error's class: ToolError, AbortError, …) and the span's error
 * status; so does a result that `failureOf` names a failure (tools report failures as results the
 * model reads). Without tracing, it is `fn()`.
 */
export async function traceToolCall<T>(
  toolName: string,
  toolCallId: string,
  fn: () => Promise<T>,
  failureOf: (result: T) => { type: string; message: string } | undefined = () => undefined,
): Promise<T> {
  if (!startedTelemetry()?.traces) return fn();
  const parent = context.active();
  const conversationId = parent.getValue(CONVERSATION_KEY);
  const span = trace.getTracer(INSTRUMENTATION_SCOPE).startSpan(
    `execute_tool ${toolName}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        [GEN_AI.OPERATION_NAME]: 'execute_tool',
        [GEN_AI.TOOL_NAME]: toolName,
        [GEN_AI.TOOL_CALL_ID]: toolCallId,
        [GEN_AI.TOOL_TYPE]: 'function',
        ...(typeof conversationId === 'string' && { [GEN_AI.CONVERSATION_ID]: conversationId }),
      },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), fn);
    const failure = failureOf(result);
    if (failure) {
      span.setAttribute(ERROR_TYPE, failure.type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    }
    return result;
  } catch (error) {
    span.setAttribute(ERROR_TYPE, errorTypeOf(error));
    span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error && { message: error.message }) });
    throw error;
  } finally {
    span.end();
  }
}
