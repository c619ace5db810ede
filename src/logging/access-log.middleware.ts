import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isProbePath } from '../common/probe-paths.js';
import { type AccessLine, accessMessage, type AppLogger } from './app-logger.js';
import { type RequestContext, runInRequest } from './request-context.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a proxy's or client's request id may look like to be kept: short, and nothing a log line could misread. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * First on every request: gives it a request id (the client's `x-request-id` when sane, else a
 * UUID), echoes it on the response, runs the rest of the request in its context (the log lines
 * logged meanwhile carry it), and writes one access line when the response ends: method, route,
 * status, duration, and for an answer its model, status and tokens. No query values, headers,
 * cookies or bodies. `logger`: the app's (AppLogger: structured lines), another LoggerService
 * (one text line), `false` (none) or undefined (Nest's default logger).
 */
export function accessLogMiddleware(logger: LoggerService | false | undefined): RequestHandler {
  const write = accessWriter(logger);
  return (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    const incoming = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const request: RequestContext = { requestId };
    // The request's server span (when traced) is the active one now; later, at the response's end, it may not be.
    const span = trace.getActiveSpan()?.spanContext();
    const traced = span && trace.isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : undefined;
    res.once('close', () => {
      if (!write) return;
      const path = req.originalUrl.split('?')[0].slice(0, 200);
      const answer = request.answer;
      const usage = answer?.run.usage;
      write({
        method: req.method,
        route: routeOf(req),
        path,
        status: res.statusCode,
        durationMs: performance.now() - startedAt,
        aborted: !res.writableFinished,
        requestId,
        ...traced,
        ...(answer && {
          answer: {
            model: answer.model,
            status: answer.run.status ?? 'refused',
            ...(usage && { inputTokens: usage.promptTokens, outputTokens: usage.completionTokens }),
          },
        }),
        ...(isProbePath(path) && { probe: true }),
      });
    });
    runInRequest(request, next);
  };
}

function accessWriter(logger: LoggerService | false | undefined): ((line: AccessLine) => void) | undefined {
  if (logger === false) return undefined;
  if (logger && 'access' in logger) return (line) => (logger as AppLogger).access(line);
  // Undefined: Nest's static Logger, which writes to whatever logger the app has.
  const target: Pick<LoggerService, 'log' | 'debug'> = logger ?? Logger;
  return (line) => {
    if (line.probe) target.debug?.(accessMessage(line), 'Access');
    else target.log(accessMessage(line), 'Access');
  };
}

/** The matched route's pattern, with the prefix of the router it was mounted on. */
function routeOf(req: Request): string | undefined {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}
