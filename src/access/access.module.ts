import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ANSWERS_THROTTLER, ClientThrottlerGuard, startsAnswer } from './client-throttler.guard.js';
import { StreamSlots } from './stream-slots.interceptor.js';

const MINUTE_MS = 60_000;

/**
 * Rate limits per client (@nestjs/throttler, in memory: each instance counts its own requests)
 * and the per-client stream limit. Who the client is comes from AccessMiddleware.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: ({ rateLimits }: AppConfig) => {
        const throttlers: ThrottlerOptions[] = [];
        if (rateLimits.requestsPerMinute > 0) throttlers.push({ name: 'default', ttl: MINUTE_MS, limit: rateLimits.requestsPerMinute });
        if (rateLimits.answersPerMinute > 0) {
          throttlers.push({
            name: ANSWERS_THROTTLER,
            ttl: MINUTE_MS,
            limit: rateLimits.answersPerMinute,
            skipIf: (context) => !startsAnswer(context),
          });
        }
        return { throttlers };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }, StreamSlots],
  exports: [StreamSlots],
})
export class AccessModule {}
