import { Injectable } from '@nestjs/common';
import { RetryLaterException } from '../common/http-error.filter.js';
import type { Response } from 'express';
import { RateLimits, tooManyMessage } from './rate-limits.js';

/** For each response holding a reserved answer: what makes the reservation count for good. */
const reservations = new WeakMap<Response, () => void>();

/**
 * RATE_LIMIT_ANSWERS_PER_MINUTE: answers are model calls, so only a request that reaches the
 * model may use one up. Whether it will is known only after validation, the conversation lookup
 * and the stream-slot check, all of which run after the guard that must refuse early; so the guard
 * reserves an answer (refusing past the limit), and the reservation is given back when the
 * response ends without `answerStarted()`. Reserving rather than checking keeps a burst of
 * concurrent requests from all passing a check that none of them has charged yet. The count is
 * shared by every instance with REDIS_URL (see RateLimits).
 */
@Injectable()
export class AnswerQuota {
  constructor(private readonly limits: RateLimits) {}

  /** Whether RATE_LIMIT_ANSWERS_PER_MINUTE is on (not 0). */
  get enabled(): boolean {
    return this.limits.answers !== undefined;
  }

  /** Reserves one of the client's answers for this response; past the limit, a 429 with Retry-After. */
  async reserve(clientKey: string, res: Response): Promise<void> {
    const answers = this.limits.answers;
    if (!answers) return;
    const hit = await answers.hit(clientKey);
    if (!hit.admitted) throw new RetryLaterException(tooManyMessage('answers', answers.limit, hit.retryAfterSeconds), hit.retryAfterSeconds);
    let started = false;
    reservations.set(res, () => (started = true));
    const release = () => {
      if (!started) answers.giveBack(clientKey, hit);
    };
    // A client gone before this point (or while the store answered) has had its 'close' already.
    if (res.destroyed) release();
    else res.once('close', release);
  }
}

/** The model is being called for this response: its reserved answer counts. */
export function answerStarted(res: Response): void {
  reservations.get(res)?.();
  reservations.delete(res);
}
