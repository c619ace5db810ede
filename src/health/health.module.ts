import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessService } from './readiness.service.js';

@Module({ imports: [RedisModule], controllers: [HealthController], providers: [ReadinessService] })
export class HealthModule {}
