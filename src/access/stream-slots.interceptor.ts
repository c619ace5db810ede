import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { callerOf } from './caller.js';

/** How long a client is told to wait when all its stream slots are taken. */
const RETRY_AFTER_SECONDS = 5;

/**
 * At most MAX_STREAMS_PER_CLIENT answers streaming at once per client (this instance's count):
 * a slot is taken when a streaming route starts and given back when its response closes,
 * finished or abandoned.
 */
@Injectable()
export class StreamSlots implements NestInterceptor {
  private readonly open = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const limit = this.config.maxStreamsPerClient;
    if (limit === 0) return next.handle();
    const http = context.switchToHttp();
    const res = http.getResponse<Response>();
    const key = callerOf(http.getRequest<Request>()).clientKey;
    const taken = this.open.get(key) ?? 0;
    if (taken >= limit) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new HttpException(
        `Too many answers streaming at once: at most ${limit} per client. Wait for one to finish.`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.open.set(key, taken + 1);
    res.once('close', () => {
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    });
    return next.handle();
  }
}
