import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AnswerQuota } from './answer-quota.js';
import { AnswerQuotaGuard } from './answer-quota.guard.js';
import { StreamSlots } from './stream-slots.js';

/**
 * The answer rate and the stream limit per client (in memory: each instance counts its own).
 * Who the client is, and the request rate, come from accessMiddleware.
 */
@Module({
  providers: [{ provide: APP_GUARD, useClass: AnswerQuotaGuard }, AnswerQuota, StreamSlots],
  // One count for every module whose routes stream answers (see StreamSlots).
  exports: [StreamSlots],
})
export class AccessModule {}
