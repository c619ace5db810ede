import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { type InMemoryTelemetry, startInMemoryTelemetry, sumPoints } from '../../test/support/in-memory-telemetry.js';
import { currentRequest, runInRequest } from '../logging/request-context.js';
import { observeAnswer, type ObservedAnswer } from './answer-telemetry.js';
import { CONVERSATION_KEY } from './gen-ai-conventions.js';
import { shutdownTelemetry } from './telemetry-config.js';

/** An answer run that settles when told to, with the status and usage given then. */
function fakeRun(conversationId = 'c0ffee00-0000-4000-8000-000000000003') {
  let settle!: () => void;
  const run: { -readonly [K in keyof ObservedAnswer]: ObservedAnswer[K] } = {
    conversationId,
    status: 'streaming',
    usage: null,
    settled: new Promise<void>((resolve) => (settle = resolve)),
  };
  return {
    run,
    end: async (status: string | undefined, usage: ObservedAnswer['usage'] = null) => {
      run.status = status;
      run.usage = usage;
      settle();
      await run.settled;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('observeAnswer', () => {
  let telemetry: InMemoryTelemetry;
  beforeEach(() => (telemetry = startInMemoryTelemetry()));
  afterEach(() => telemetry.shutdown());

  it('an `invoke_agent` span from start to the stored outcome, the run’s work in its context, with the final status and tokens', async () => {
    const { run, end } = fakeRun();
    const request = trace.getTracer('test').startSpan('POST /chat');
    let inRun: { spanId?: string; conversation?: unknown } = {};
    context.with(trace.setSpan(context.active(), request), () =>
      observeAnswer(run, 'gpt-4o-mini', () => {
        inRun = { spanId: trace.getActiveSpan()?.spanContext().spanId, conversation: context.active().getValue(CONVERSATION_KEY) };
      }),
    );
    expect(telemetry.spans()).toEqual([]); // open until the outcome is stored
    await end('complete', { promptTokens: 12, completionTokens: 5 });
    request.end();

    const span = telemetry.span('invoke_agent chat-app');
    expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(inRun).toEqual({ spanId: span.spanContext().spanId, conversation: 'c0ffee00-0000-4000-8000-000000000003' });
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'chat-app',
      'gen_ai.conversation.id': 'c0ffee00-0000-4000-8000-000000000003',
      'gen_ai.request.model': 'gpt-4o-mini',
      'chat.answer.status': 'complete',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('an answer that ends with an error is an ERROR span; an interrupted one is not', async () => {
    const failed = fakeRun();
    observeAnswer(failed.run, 'm', () => undefined);
    await failed.end('error');
    const stopped = fakeRun();
    observeAnswer(stopped.run, 'm', () => undefined);
    await stopped.end('interrupted');
    const [first, second] = telemetry.spans();
    expect([first.attributes['chat.answer.status'], first.status.code]).toEqual(['error', SpanStatusCode.ERROR]);
    expect([second.attributes['chat.answer.status'], second.status.code]).toEqual(['interrupted', SpanStatusCode.UNSET]);
  });

  it('counts answers streaming now, and answers ended by final status (a refused one is no answer)', async () => {
    const runs = [fakeRun(), fakeRun(), fakeRun(), fakeRun()];
    for (const { run } of runs) observeAnswer(run, 'm', () => undefined);
    expect(sumPoints(await telemetry.metric('chat.answers.streaming'))).toEqual([{ attributes: {}, value: 4 }]);
    await runs[0].end('complete');
    await runs[1].end('complete');
    await runs[2].end('error');
    await runs[3].end(undefined);
    expect(sumPoints(await telemetry.metric('chat.answers.streaming'))).toEqual([{ attributes: {}, value: 0 }]);
    expect(sumPoints(await telemetry.metric('chat.answers'))).toEqual([
      { attributes: { 'chat.answer.status': 'complete' }, value: 2 },
      { attributes: { 'chat.answer.status': 'error' }, value: 1 },
    ]);
    expect(telemetry.spans().map((s) => s.attributes['chat.answer.status'])).toEqual(['complete', 'complete', 'error', 'refused']);
  });

  it('tells the request that started the answer about it, for its access line, with or without the SDK', async () => {
    await shutdownTelemetry();
    const { run } = fakeRun();
    let started = false;
    const request = { requestId: 'r-1' };
    runInRequest(request, () => observeAnswer(run, 'gpt-4o-mini', () => (started = true)));
    expect(started).toBe(true);
    expect(currentRequest()).toBeUndefined();
    expect(request).toEqual({ requestId: 'r-1', answer: { model: 'gpt-4o-mini', run } });
    expect(telemetry.spans()).toEqual([]);
  });
});
