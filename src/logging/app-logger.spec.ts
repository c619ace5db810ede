import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { type InMemoryTelemetry, startInMemoryTelemetry } from '../../test/support/in-memory-telemetry.js';
import { type AccessLine, createAppLogger } from './app-logger.js';
import type { LogLevel } from './log-settings.js';
import { runInRequest } from './request-context.js';

/** A JSON logger writing into an array, one parsed object per line. */
function jsonLogger(level: LogLevel = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createAppLogger({ format: 'json', level }, sink), lines };
}

const ACCESS: AccessLine = {
  method: 'POST',
  route: '/api/conversations/:id/messages',
  path: '/api/conversations/0b6e…/messages',
  status: 200,
  durationMs: 1234.5,
  aborted: false,
  requestId: 'req-1',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  answer: { model: 'gpt-4o-mini', status: 'complete', inputTokens: 31, outputTokens: 4 },
};

describe('createAppLogger, LOG_FORMAT=json', () => {
  it('one JSON object a line: level, ISO time, context and message, as Nest’s Logger calls it', () => {
    const { logger, lines } = jsonLogger();
    logger.log('Model: gpt-4o-mini', 'Bootstrap');
    logger.warn('Redis is not reachable', 'Redis');
    logger.error('Could not store an answer', undefined, 'AnswerRun');
    logger.error('boom', 'Error: boom\n    at somewhere (file.js:1:1)', 'ChatService');
    expect(lines).toEqual([
      { level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), pid: process.pid, context: 'Bootstrap', message: 'Model: gpt-4o-mini' },
      expect.objectContaining({ level: 'warn', context: 'Redis', message: 'Redis is not reachable' }),
      expect.objectContaining({ level: 'error', context: 'AnswerRun', message: 'Could not store an answer' }),
      expect.objectContaining({ level: 'error', context: 'ChatService', message: 'boom', stack: 'Error: boom\n    at somewhere (file.js:1:1)' }),
    ]);
    expect(lines[2]).not.toHaveProperty('stack');
  });

  it('LOG_LEVEL: lines below it are left out', () => {
    const { logger, lines } = jsonLogger('warn');
    logger.log('hidden', 'X');
    logger.debug?.('hidden', 'X');
    logger.warn('shown', 'X');
    expect(lines.map((l) => l.message)).toEqual(['shown']);
    const verbose = jsonLogger('verbose');
    verbose.logger.verbose?.('shown', 'X');
    verbose.logger.debug?.('shown too', 'X');
    expect(verbose.lines.map((l) => [l.level, l.message])).toEqual([['trace', 'shown'], ['debug', 'shown too']]);
  });

  it('carries the request id of the request being handled', () => {
    const { logger, lines } = jsonLogger();
    runInRequest({ requestId: 'req-42' }, () => {
      logger.warn('inside', 'ChatService');
    });
    logger.warn('outside', 'ChatService');
    expect(lines[0]).toMatchObject({ requestId: 'req-42', message: 'inside' });
    expect(lines[1]).not.toHaveProperty('requestId');
  });

  describe('inside a trace', () => {
    let telemetry: InMemoryTelemetry;
    beforeEach(() => (telemetry = startInMemoryTelemetry()));
    afterEach(() => telemetry.shutdown());

    it('carries the trace id and span id of the active span', () => {
      const { logger, lines } = jsonLogger();
      const span = trace.getTracer('test').startSpan('work');
      context.with(trace.setSpan(context.active(), span), () => {
        logger.log('traced', 'X');
      });
      span.end();
      expect(lines[0]).toMatchObject({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
    });
  });

  it('an access line: its fields, and a message a person reads; probes only at debug level', () => {
    const { logger, lines } = jsonLogger();
    logger.access(ACCESS);
    logger.access({ ...ACCESS, route: '/readyz', path: '/readyz', answer: undefined, probe: true });
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        pid: process.pid,
        context: 'Access',
        method: 'POST',
        route: '/api/conversations/:id/messages',
        path: '/api/conversations/0b6e…/messages',
        status: 200,
        durationMs: 1234.5,
        aborted: false,
        requestId: 'req-1',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        answer: { model: 'gpt-4o-mini', status: 'complete', inputTokens: 31, outputTokens: 4 },
        message: 'POST /api/conversations/:id/messages 200 1235 ms: answer by gpt-4o-mini complete, 31 in / 4 out tokens',
      },
    ]);
    const debug = jsonLogger('debug');
    debug.logger.access({ ...ACCESS, answer: undefined, probe: true });
    expect(debug.lines).toHaveLength(1);
    expect(debug.lines[0]).toMatchObject({ level: 'debug' });
    expect(debug.lines[0]).not.toHaveProperty('probe');
  });
});
