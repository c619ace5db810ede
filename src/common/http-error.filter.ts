import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';

export interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

/**
 * One JSON error shape for every failure, `{statusCode, error, message}`. Errors that are not
 * HTTP errors are logged and answered with a bare 500: no stack or internals reach a client.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendError(host.switchToHttp().getResponse<Response>(), exception, this.logger);
  }
}

/** A 429 or 503 that tells the client when to come back (`Retry-After`, in seconds). */
export class RetryLaterException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    status: HttpStatus.TOO_MANY_REQUESTS | HttpStatus.SERVICE_UNAVAILABLE = HttpStatus.TOO_MANY_REQUESTS,
  ) {
    super(message, status);
  }
}

/**
 * Answers a failure: its status, `Retry-After` when it says when to come back, and the JSON
 * body. Every error response is written here: by the filter, the access middleware and the
 * stream's error path before its first byte.
 */
export function sendError(res: Response, exception: unknown, logger?: Logger): void {
  if (res.headersSent) {
    // Mid-stream: the status is gone already, all that is left is to end the body.
    if (!res.writableEnded) res.end();
    return;
  }
  const body = errorBody(exception, logger);
  if (exception instanceof RetryLaterException) res.setHeader('Retry-After', String(exception.retryAfterSeconds));
  res.status(body.statusCode).json(body);
}

/** The JSON error body for any failure; unexpected ones are logged and answered with a bare 500. */
export function errorBody(exception: unknown, logger = new Logger('HttpError')): ErrorBody {
  // Nest wraps body-parser errors in an HttpException; the parser's own error is the cause.
  const parserError = bodyParserError(exception instanceof HttpException ? exception.cause : exception);
  if (parserError) return parserError;
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'string' ? response : (flatten((response as { message?: unknown }).message) ?? exception.message);
    return { statusCode, error: reasonPhrase(statusCode), message };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
}

function flatten(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}

/** body-parser and raw-body errors carry an HTTP status and a `type`. */
function bodyParserError(exception: unknown): ErrorBody | undefined {
  const error = exception as { status?: unknown; type?: unknown; limit?: unknown } | null | undefined;
  if (typeof error?.status !== 'number' || typeof error.type !== 'string' || error.status >= 500) return undefined;
  const statusCode = error.status;
  const messages: Record<string, string> = {
    'entity.too.large': `The request body is larger than the limit of ${String(error.limit)} bytes`,
    'entity.parse.failed': 'The request body is not valid JSON',
    'entity.too.deep': `The request body is nested more than ${String(error.limit)} levels deep`,
    'encoding.unsupported': 'The request body has an unsupported character encoding',
    'charset.unsupported': 'The request body has an unsupported charset',
    'request.aborted': 'The request was aborted before its body arrived',
    'parameters.too.many': 'The request body has too many fields',
  };
  return {
    statusCode,
    error: reasonPhrase(statusCode),
    message: messages[error.type] ?? 'The request body could not be read',
  };
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status];
  if (typeof name !== 'string') return status >= 500 ? 'Error' : 'Bad Request';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
