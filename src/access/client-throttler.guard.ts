import { HttpException, HttpStatus, Injectable, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { callerOf } from './caller.js';

/** The throttler that counts answers started (model calls), besides the one counting all requests. */
export const ANSWERS_THROTTLER = 'answers';
const STARTS_ANSWER = 'chat:starts-answer';

/** Marks a route that starts a model answer: it also counts against RATE_LIMIT_ANSWERS_PER_MINUTE. */
export const StartsAnswer = () => SetMetadata(STARTS_ANSWER, true);

export function startsAnswer(context: ExecutionContext): boolean {
  return Reflect.getMetadata(STARTS_ANSWER, context.getHandler()) === true;
}

/**
 * @nestjs/throttler's guard, counting per client (Caller.clientKey) across all routes rather
 * than per route, and answering 429 with a plain `Retry-After` for either limit.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(callerOf(req as unknown as Request).clientKey);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const res = context.switchToHttp().getResponse<Response>();
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    res.setHeader('Retry-After', String(retryAfter));
    const what = startsAnswer(context) && detail.key.startsWith(`${ANSWERS_THROTTLER}:`) ? 'answers' : 'requests';
    throw new HttpException(
      `Too many ${what}: at most ${detail.limit} a minute. Try again in ${retryAfter} s.`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
