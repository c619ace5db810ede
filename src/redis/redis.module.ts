import { Module } from '@nestjs/common';
import { RedisService } from './redis.service.js';

/** REDIS_URL's connections (see RedisService); a module of its own so that each user imports it. */
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
