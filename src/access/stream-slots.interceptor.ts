import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { callerOf } from './caller.js';
import { StreamSlots } from './stream-slots.js';

/** Takes a stream slot (StreamSlots) for the response of a route that streams an answer. */
@Injectable()
export class StreamSlotsInterceptor implements NestInterceptor {
  constructor(private readonly slots: StreamSlots) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    this.slots.take(callerOf(http.getRequest<Request>()).clientKey, http.getResponse<Response>());
    return next.handle();
  }
}
