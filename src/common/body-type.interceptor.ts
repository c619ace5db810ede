import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, UnsupportedMediaTypeException } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import type { Request } from 'express';
import type { Observable } from 'rxjs';

/** Set (as a static property) on an interceptor that parses multipart bodies for its routes. */
export const PARSES_MULTIPART = Symbol('parsesMultipart');

const TAKES_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Refuses, with 415, a request whose body no parser read: a content type the app does not take
 * (text/plain, XML, none) would otherwise reach the route as no body at all, and, for example,
 * create an untitled conversation. JSON and urlencoded are parsed for every route before this;
 * multipart only by routes with an interceptor marked PARSES_MULTIPART, which run after this.
 * An empty body is no body, whatever its content type.
 */
@Injectable()
export class BodyTypeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (TAKES_BODY.has(req.method) && req.body === undefined && hasBody(req)) {
      const multipart = parsesMultipart(context);
      if (!(multipart && req.is('multipart/form-data'))) {
        const types = ['application/json', 'application/x-www-form-urlencoded', ...(multipart ? ['multipart/form-data'] : [])];
        throw new UnsupportedMediaTypeException(`Unsupported content type: send the body as ${types.join(', ')}`);
      }
    }
    return next.handle();
  }
}

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return Number(req.headers['content-length']) > 0;
}

function parsesMultipart(context: ExecutionContext): boolean {
  const interceptors = [context.getHandler(), context.getClass()].flatMap(
    (target) => (Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? [],
  );
  return interceptors.some((interceptor) => {
    const type = typeof interceptor === 'function' ? interceptor : (interceptor as object | null)?.constructor;
    return (type as { [PARSES_MULTIPART]?: boolean } | undefined)?.[PARSES_MULTIPART] === true;
  });
}
