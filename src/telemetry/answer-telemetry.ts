import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type AnswerSummary, currentRequest } from '../logging/request-context.js';
import { AGENT_NAME, ANSWER_STATUS, CONVERSATION_KEY, GEN_AI, INSTRUMENTATION_SCOPE } from './gen-ai-conventions.js';
import { chatMetrics } from './gen-ai-metrics.js';
import { startedTelemetry } from './telemetry-config.js';

/** What the telemetry reads of an answer run (AnswerRun has this shape). */
export interface ObservedAnswer extends AnswerSummary {
  readonly conversationId: string;
  /** Resolves once the outcome is stored (or the run was refused). */
  readonly settled: Promise<void>;
}

/**
 * Observes one answer from its start to its stored outcome: the request that started it reports
 * its model, status and tokens in its access line; with the SDK running, it counts in
 * `chat.answers.streaming` and, once settled, in `chat.answers` by final status; with tracing, it
 * is an `invoke_agent` span whose context `start` runs in, so the model and tool calls the run
 * makes (even after the response has ended) are its children. Call with the run not yet started.
 */
export function observeAnswer(run: ObservedAnswer, model: string, start: () => void): void {
  const request = currentRequest();
  if (request) request.answer = { model, run };
  const telemetry = startedTelemetry();
  if (!telemetry) return start();

  const metrics = chatMetrics();
  metrics.answersStreaming.add(1);
  const span = trace.getTracer(INSTRUMENTATION_SCOPE).startSpan(`invoke_agent ${AGENT_NAME}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      [GEN_AI.OPERATION_NAME]: 'invoke_agent',
      [GEN_AI.AGENT_NAME]: AGENT_NAME,
      [GEN_AI.CONVERSATION_ID]: run.conversationId,
      [GEN_AI.REQUEST_MODEL]: model,
    },
  });
  void run.settled.then(() => {
    const status = run.status ?? 'refused';
    span.setAttribute(ANSWER_STATUS, status);
    if (run.usage) {
      span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, run.usage.promptTokens);
      span.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, run.usage.completionTokens);
    }
    if (status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: 'The answer ended with an error' });
    span.end();
    metrics.answersStreaming.add(-1);
    if (status !== 'refused') metrics.answers.add(1, { [ANSWER_STATUS]: status });
  });
  context.with(trace.setSpan(context.active(), span).setValue(CONVERSATION_KEY, run.conversationId), start);
}
