import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AnswerQuota } from './answer-quota.js';
import { ClientThrottlerGuard } from './client-throttler.guard.js';
import { StreamSlots } from './stream-slots.interceptor.js';

/**
 * The answer rate and the stream limit per client (in memory: each instance counts its own).
 * Who the client is, and the request rate, come from AccessMiddleware.
 */
@Global()
@Module({
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }, AnswerQuota, StreamSlots],
  exports: [StreamSlots],
})
export class AccessModule {}
