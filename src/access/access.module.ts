import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RedisModule } from '../redis/redis.module.js';
import { AnswerQuota } from './answer-quota.js';
import { AnswerQuotaGuard } from './answer-quota.guard.js';
import { RateLimits } from './rate-limits.js';
import { StreamSlots } from './stream-slots.js';

/**
 * The rate limits (RateLimits: the request rate for accessMiddleware, the answer quota for
 * AnswerQuotaGuard) and the stream limit (StreamSlots) per client: in Redis with REDIS_URL, so
 * that every instance counts against the same limits, else in memory, per instance. Who the
 * client is comes from accessMiddleware.
 */
@Module({
  imports: [RedisModule],
  providers: [{ provide: APP_GUARD, useClass: AnswerQuotaGuard }, AnswerQuota, RateLimits, StreamSlots],
  // One count for every module whose routes stream answers (see StreamSlots); RateLimits for app.factory and the start-up log.
  exports: [StreamSlots, RateLimits],
})
export class AccessModule {}
