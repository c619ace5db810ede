import { parseNdjson } from './support/app-harness.js';
import { type AppProcess, freePort } from './support/built-app.js';
import { testDatabaseKind } from './support/database.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';
import { describeWithRedis, RedisServer } from './support/redis-server.js';
import { OtlpReceiver, parsePrometheus, type ReceivedSpan, SPAN_KIND, STATUS_CODE } from './support/otlp-receiver.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`;
const ANSWER = wordTokens(5).join('');

/** The built app (dist/main.js, as users run it) exporting spans to a real OTLP/HTTP receiver, in the JSON protocol. */
describe('observability of the built app: OpenTelemetry traces and metrics, JSON logs, readiness', () => {
  const e2e = useE2eFixture({ upstream: { tokens: wordTokens(5) }, env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0' }, autoStart: false });
  let receiver: OtlpReceiver;
  beforeEach(async () => (receiver = await OtlpReceiver.start()));
  afterEach(() => receiver.close());

  const tracing = () => ({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'chat-under-test',
    LOG_FORMAT: 'json',
  });

  const ask = async (app: AppProcess, prompt: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${app.url}/chat/`, { method: 'POST', headers, body: new URLSearchParams({ prompt }) });
    return { response, lines: parseNdjson(await response.text()) };
  };

  const answerSpansArrived = (spans: readonly ReceivedSpan[]) =>
    spans.some((s) => s.name === 'invoke_agent chat-app') && spans.some((s) => s.name === 'chat fake-model') && spans.some((s) => s.kind === SPAN_KIND.SERVER);

  /** The span named `name` (exactly one), in `spans`. */
  const one = (spans: readonly ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string) => {
    const found = spans.filter(predicate);
    if (found.length !== 1) throw new Error(`${found.length} spans for ${what}: ${spans.map((s) => s.name).join(', ')}`);
    return found[0];
  };

  it('one trace per answer, continuing the caller’s traceparent: HTTP server span → invoke_agent → chat {model} → the request to the model server, which carries traceparent', async () => {
    const app = await e2e.startBuilt(tracing());
    const { lines } = await ask(app, 'trace me', { traceparent: TRACEPARENT });
    expect(lines.at(-1)).toMatchObject({ role: 'model', content: ANSWER });

    const spans = await receiver.waitFor(answerSpansArrived, 'spans of the answer');
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    const server = one(spans, (s) => s.kind === SPAN_KIND.SERVER && s.attributes['http.route'] === '/chat', 'the HTTP server span');
    const agent = one(spans, (s) => s.name === 'invoke_agent chat-app', 'invoke_agent');
    const chat = one(spans, (s) => s.name === 'chat fake-model', 'chat');
    const upstreamCall = one(spans, (s) => s.kind === SPAN_KIND.CLIENT && s.parentSpanId === chat.spanId, 'the request to the model server');

    // The caller's trace continues: every span of the answer is in it, the server span the caller's child.
    for (const span of [server, agent, chat, upstreamCall]) expect(span.traceId).toBe(TRACE_ID);
    expect(server.parentSpanId).toBe(CALLER_SPAN_ID);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/chat', 'http.response.status_code': 200 });
    expect(server.resource).toMatchObject({ 'service.name': 'chat-under-test' });
    // invoke_agent descends from the server span (through the route handler's span).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: string[] = [];
      for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent.spanId);
      return chain;
    };
    expect(ancestors(agent)).toContain(server.spanId);
    expect(chat.parentSpanId).toBe(agent.spanId);
    if (testDatabaseKind() === 'postgres') {
      // pg is auto-instrumented in the ESM build: the answer's queries are in its trace.
      const queries = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && s.traceId === TRACE_ID);
      expect(queries.length).toBeGreaterThan(0);
      for (const query of queries) expect(ancestors(query)).toContain(server.spanId);
    }

    const conversationId = '00000000-0000-0000-0000-000000000000';
    expect(agent.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'chat-app',
      'gen_ai.conversation.id': conversationId,
      'gen_ai.request.model': 'fake-model',
      'chat.answer.status': 'complete',
      'gen_ai.usage.input_tokens': expect.any(Number),
      'gen_ai.usage.output_tokens': 5,
    });
    const upstream = new URL(e2e.fake.baseURL);
    expect(chat.kind).toBe(SPAN_KIND.CLIENT);
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.request.stream': true,
      'gen_ai.conversation.id': conversationId,
      'gen_ai.usage.input_tokens': expect.any(Number),
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.time_to_first_chunk': expect.any(Number),
      'server.address': upstream.hostname,
      'server.port': Number(upstream.port),
    });
    expect(chat.status.code).toBe(STATUS_CODE.UNSET);
    expect(chat.attributes).not.toHaveProperty('error.type');

    // traceparent out: the model server saw the trace, with the client span as parent.
    expect(e2e.fake.requests[0].headers.traceparent).toBe(`00-${TRACE_ID}-${upstreamCall.spanId}-01`);

    // No message content by default: neither the prompt nor the answer reaches the exporter.
    const exported = receiver.bodies.join('\n');
    expect(exported).not.toContain('trace me');
    expect(exported).not.toContain('w0 w1');
    expect(spans.flatMap((s) => Object.keys(s.attributes)).filter((key) => /^gen_ai\.(input|output)\.messages$|system_instructions/.test(key))).toEqual([]);
  });

  it('a request without traceparent starts a trace of its own, and the model server gets it', async () => {
    const app = await e2e.startBuilt(tracing());
    await ask(app, 'fresh trace');
    const spans = await receiver.waitFor(answerSpansArrived, 'spans of the answer');
    const server = one(spans, (s) => s.kind === SPAN_KIND.SERVER && s.attributes['http.route'] === '/chat', 'the HTTP server span');
    expect(server.parentSpanId).toBe('');
    expect(server.traceId).not.toBe(TRACE_ID);
    expect(e2e.fake.requests[0].headers.traceparent).toMatch(new RegExp(`^00-${server.traceId}-[0-9a-f]{16}-01$`));
  });

  it('a tool step: execute_tool {name} under invoke_agent, between the two chat spans, with the GenAI tool attributes', async () => {
    e2e.fake.enqueue({ tokens: ['Checking. '], toolCalls: [{ name: 'current_time', arguments: {}, id: 'call_t1' }] }, { tokens: ['Done.'] });
    const app = await e2e.startBuilt({ ...tracing(), AGENT_TOOLS: 'current_time' });
    const { lines } = await ask(app, 'what time is it', { traceparent: TRACEPARENT });
    expect(lines.at(-1)).toMatchObject({ role: 'model', content: 'Checking. Done.' });

    const spans = await receiver.waitFor(
      (received) => answerSpansArrived(received) && received.some((s) => s.name === 'execute_tool current_time') && received.filter((s) => s.name === 'chat fake-model').length === 2,
      'spans of the answer with its tool step',
    );
    const agent = one(spans, (s) => s.name === 'invoke_agent chat-app', 'invoke_agent');
    const tool = one(spans, (s) => s.name === 'execute_tool current_time', 'execute_tool');
    const chats = spans.filter((s) => s.name === 'chat fake-model');
    expect(tool.traceId).toBe(TRACE_ID);
    expect(tool.parentSpanId).toBe(agent.spanId);
    for (const chat of chats) expect(chat.parentSpanId).toBe(agent.spanId);
    expect(tool.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'current_time',
      'gen_ai.tool.call.id': 'call_t1',
    });
    expect(tool.status.code).toBe(STATUS_CODE.UNSET);
  });

  it('an upstream error: chat span with error.type and ERROR status, invoke_agent with status error', async () => {
    const app = await e2e.startBuilt(tracing());
    e2e.fake.enqueue({ status: 500, errorMessage: 'engine on fire' });
    const { lines } = await ask(app, 'fail please');
    expect(lines.at(-1)).toMatchObject({ role: 'error' });
    const spans = await receiver.waitFor(answerSpansArrived, 'spans of the failed answer');
    const chat = one(spans, (s) => s.name === 'chat fake-model', 'chat');
    expect(chat.attributes['error.type']).toBe('InternalServerError');
    expect(chat.status.code).toBe(STATUS_CODE.ERROR);
    const agent = one(spans, (s) => s.name === 'invoke_agent chat-app', 'invoke_agent');
    expect(agent.attributes['chat.answer.status']).toBe('error');
    expect(agent.status.code).toBe(STATUS_CODE.ERROR);
  });

  it('message content on spans only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true', async () => {
    const app = await e2e.startBuilt({ ...tracing(), OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true', SYSTEM_PROMPT: 'Answer in words.' });
    await ask(app, 'show my words');
    const spans = await receiver.waitFor(answerSpansArrived, 'spans of the answer');
    const chat = one(spans, (s) => s.name === 'chat fake-model', 'chat');
    expect(JSON.parse(chat.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'show my words' }] }]);
    expect(JSON.parse(chat.attributes['gen_ai.system_instructions'] as string)).toEqual([{ type: 'text', content: 'Answer in words.' }]);
    expect(JSON.parse(chat.attributes['gen_ai.output.messages'] as string)).toEqual([
      expect.objectContaining({ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }),
    ]);
  });

  it('metrics on the Prometheus endpoint (OTEL_METRICS_EXPORTER=prometheus): token histogram counts match the answers made', async () => {
    const port = await freePort();
    const app = await e2e.startBuilt({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_EXPORTER: 'none' });
    const answers = 3;
    for (let i = 0; i < answers; i++) expect((await ask(app, `count me ${i}`)).lines.at(-1)).toMatchObject({ role: 'model', content: ANSWER });
    e2e.fake.enqueue({ status: 500 });
    await ask(app, 'one that fails');

    const samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const value = (name: string, labels: Record<string, string> = {}) => {
      const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${found.length} samples ${name} ${JSON.stringify(labels)}: ${samples.filter((s) => s.name === name).map((s) => JSON.stringify(s.labels)).join('\n')}`);
      return found[0].value;
    };
    const model = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'fake-model' };
    expect(value('gen_ai_client_token_usage_count', { ...model, gen_ai_token_type: 'input' })).toBe(answers);
    expect(value('gen_ai_client_token_usage_count', { ...model, gen_ai_token_type: 'output' })).toBe(answers);
    expect(value('gen_ai_client_token_usage_sum', { ...model, gen_ai_token_type: 'output' })).toBe(answers * 5);
    const durations = samples.filter((s) => s.name === 'gen_ai_client_operation_duration_count');
    expect(durations.filter((s) => s.labels.error_type === undefined).map((s) => s.value)).toEqual([answers]);
    expect(durations.filter((s) => s.labels.error_type === 'InternalServerError').map((s) => s.value)).toEqual([1]);
    expect(value('gen_ai_client_operation_time_to_first_chunk_count', model)).toBe(answers);
    expect(value('chat_answers_total', { chat_answer_status: 'complete' })).toBe(answers);
    expect(value('chat_answers_total', { chat_answer_status: 'error' })).toBe(1);
    expect(value('chat_answers_streaming')).toBe(0);
    expect(value('http_server_request_duration_count', { http_route: '/chat', http_request_method: 'POST', http_response_status_code: '200' })).toBe(answers + 1);
    // Buckets are there, with the conventions' boundaries.
    expect(samples.some((s) => s.name === 'gen_ai_client_token_usage_bucket' && s.labels.le === '16')).toBe(true);
    // Nothing was traced: no exporter was named for traces, and none was set up.
    expect(receiver.bodies).toEqual([]);
  });

  it('JSON logs, one object a line: the access line of an answer with its request id, trace id, model, status and tokens, and no prompt or answer text', async () => {
    const app = await e2e.startBuilt(tracing());
    const { response } = await ask(app, 'secret prompt words', { traceparent: TRACEPARENT, 'x-request-id': 'req-from-proxy-1' });
    expect(response.headers.get('x-request-id')).toBe('req-from-proxy-1');
    const insane = await fetch(`${app.url}/api/info`, { headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    const madeUp = insane.headers.get('x-request-id');
    expect(madeUp).toMatch(/^[0-9a-f-]{36}$/);
    e2e.fake.enqueue({ status: 500 });
    await ask(app, 'this one fails', { 'x-request-id': 'req-failing' });

    const lines = await eventually(() => {
      const parsed = jsonLines(app.log());
      return parsed.some((l) => l.requestId === 'req-failing' && l.context === 'Access') ? parsed : undefined;
    });
    for (const line of lines) expect(line).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), message: expect.any(String) }));
    expect(lines.find((l) => l.context === 'Bootstrap' && /Chat app ready/.test(String(l.message)))).toBeDefined();

    const access = lines.find((l) => l.context === 'Access' && l.requestId === 'req-from-proxy-1');
    expect(access).toEqual(
      expect.objectContaining({
        level: 'info',
        method: 'POST',
        route: '/chat',
        path: '/chat/',
        status: 200,
        aborted: false,
        durationMs: expect.any(Number),
        traceId: TRACE_ID,
        spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
        answer: { model: 'fake-model', status: 'complete', inputTokens: expect.any(Number), outputTokens: 5 },
      }),
    );
    expect(lines.find((l) => l.context === 'Access' && l.requestId === madeUp)).toMatchObject({ route: '/api/info', status: 200 });
    expect(lines.find((l) => l.context === 'Access' && l.requestId === 'req-failing')).toMatchObject({ answer: { status: 'error' } });
    // A line logged while the failing request was handled carries its request id and trace.
    const warning = lines.find((l) => l.context === 'AnswerRun' && /Model call failed/.test(String(l.message)));
    expect(warning).toMatchObject({ level: 'warn', requestId: 'req-failing', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const spans = await receiver.waitFor(answerSpansArrived, 'spans');
    const server = one(spans, (s) => s.kind === SPAN_KIND.SERVER && s.traceId === TRACE_ID, 'the traced request');
    expect(access?.spanId).toBe(server.spanId);
    expect(app.log()).not.toContain('secret prompt words');
    expect(app.log()).not.toContain('w0 w1');
  });

  it('/readyz: ready while the database answers; 503 from the moment SIGTERM arrives while answers still finish (SHUTDOWN_DELAY_MS), /healthz still live', async () => {
    const app = await e2e.startBuilt({ SHUTDOWN_DELAY_MS: '60000', LOG_FORMAT: 'json', AUTH_MODE: 'token', API_TOKENS: 'a-token-of-sixteen-chars-or-more' });
    const ready = await fetch(`${app.url}/readyz`); // no token: probes are open
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);

    const release = e2e.fake.pause();
    const inFlight = fetch(`${app.url}/chat/`, { method: 'POST', headers: { authorization: 'Bearer a-token-of-sixteen-chars-or-more' }, body: new URLSearchParams({ prompt: 'finish me' }) });
    await e2e.fake.request(1, 5000);
    app.child.kill('SIGTERM');

    const draining = await eventually(async () => {
      const response = await fetch(`${app.url}/readyz`);
      return response.status === 503 ? response : undefined;
    });
    expect(await draining.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The server is shutting down' });
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

    // Before the drain begins, the answer in flight runs to its end.
    release();
    const lines = parseNdjson(await (await inFlight).text());
    expect(lines.at(-1)).toMatchObject({ role: 'model', content: ANSWER });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    expect(jsonLines(app.log()).some((l) => l.context === 'Readiness' && /SHUTDOWN_DELAY_MS/.test(String(l.message)))).toBe(true);
    app.child.kill('SIGKILL'); // the delay would outlast the test
  });
});

describeWithRedis()('with REDIS_URL', () => {
  const e2e = useE2eFixture({ autoStart: false, env: { OPENAI_MODEL: 'fake-model' } });
  let redis: RedisServer;
  beforeEach(async () => (redis = await RedisServer.start()));
  afterEach(() => redis.stop());

  it('the Redis client (an ESM import of ioredis) is auto-instrumented: the answer’s commands are in its trace', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const app = await e2e.startBuilt({
        REDIS_URL: redis.url,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      await (await fetch(`${app.url}/chat/`, { method: 'POST', headers: { traceparent: TRACEPARENT }, body: new URLSearchParams({ prompt: 'hi' }) })).text();
      const spans = await receiver.waitFor(
        (all) => all.some((s) => s.name === 'invoke_agent chat-app') && all.some((s) => s.scope === '@opentelemetry/instrumentation-ioredis'),
        'Redis spans',
      );
      const commands = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
      expect(commands.every((s) => s.traceId === TRACE_ID)).toBe(true);
      expect(commands[0].attributes).toMatchObject({ 'db.system.name': 'redis' });
    } finally {
      await receiver.close();
    }
  });

  it('is ready while Redis answers, 503 (naming Redis) while it is away, ready again once it is back; /healthz stays live', async () => {
    const { url } = await e2e.start({ REDIS_URL: redis.url });
    const readiness = async () => {
      const response = await fetch(`${url}/readyz`);
      return { status: response.status, body: (await response.json()) as { message?: string } };
    };
    await eventually(async () => ((await readiness()).status === 200 ? true : undefined));
    await redis.kill();
    const away = await eventually(async () => {
      const result = await readiness();
      return result.status === 503 ? result : undefined;
    });
    expect(away.body.message).toBe('Redis (REDIS_URL) does not answer');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await redis.restart();
    await eventually(async () => ((await readiness()).status === 200 ? true : undefined));
  });
});

/** The app's output, one parsed JSON object a line; a line that is not JSON fails the test. */
function jsonLines(log: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line that is not JSON: ${line}`);
      }
    });
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not so after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
