import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AnswerQuota } from './answer-quota.js';
import { callerOf } from './caller.js';

const STARTS_ANSWER = 'chat:starts-answer';

/** Marks a route that starts a model answer: it also counts against RATE_LIMIT_ANSWERS_PER_MINUTE. */
export const StartsAnswer = () => SetMetadata(STARTS_ANSWER, true);

export function startsAnswer(context: ExecutionContext): boolean {
  return Reflect.getMetadata(STARTS_ANSWER, context.getHandler()) === true;
}

/**
 * Reserves an answer (AnswerQuota) for routes that start one, per client (Caller.clientKey).
 * The request rate is counted by accessMiddleware instead: a guard never sees the page's files,
 * the API docs or unknown paths.
 */
@Injectable()
export class AnswerQuotaGuard implements CanActivate {
  constructor(private readonly quota: AnswerQuota) {}

  // Synchronous for every route that starts no answer: most requests need no promise here.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (!this.quota.enabled || !startsAnswer(context)) return true;
    const http = context.switchToHttp();
    return this.quota.reserve(callerOf(http.getRequest<Request>()).clientKey, http.getResponse<Response>()).then(() => true);
  }
}
