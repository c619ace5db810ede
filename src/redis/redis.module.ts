import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { REDIS_CLIENT_CLASS, RedisService } from './redis.service.js';

/** REDIS_URL's connections (see RedisService); a module of its own so that each user imports it. */
@Module({
  providers: [
    // ioredis is loaded only with REDIS_URL: without it nothing connects, and the client is not needed.
    { provide: REDIS_CLIENT_CLASS, inject: [APP_CONFIG], useFactory: async ({ redisUrl }: AppConfig) => (redisUrl ? (await import('ioredis')).Redis : undefined) },
    RedisService,
  ],
  exports: [RedisService],
})
export class RedisModule {}
