import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';

/** How long a probe waits for the database or Redis before calling it unreachable. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * Whether this instance should get traffic: not shutting down, the database answers, and Redis
 * too when REDIS_URL is set. Shutting down starts with the first shutdown hook Nest runs
 * (onModuleDestroy, before the answers in flight are drained), that is as soon as SIGTERM
 * arrives; with SHUTDOWN_DELAY_MS the drain then waits that long, so load balancers see the 503
 * and stop sending first.
 */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private readonly logger = new Logger('Readiness');
  private draining = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Why the instance is not ready, or undefined when it is. */
  async problem(): Promise<string | undefined> {
    if (this.draining) return 'The server is shutting down';
    if (!(await this.answers(() => this.dataSource.query('SELECT 1')))) return 'The database does not answer';
    const redis = this.redis.commands;
    if (redis && !(this.redis.ready && (await this.answers(() => redis.ping())))) return 'Redis (REDIS_URL) does not answer';
    return undefined;
  }

  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    const delay = this.config.shutdownDelayMs;
    if (delay > 0) {
      this.logger.log(`Shutting down: /readyz answers 503; the drain starts in ${delay} ms (SHUTDOWN_DELAY_MS)`);
      await sleep(delay);
    }
  }

  private async answers(check: () => Promise<unknown>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
    try {
      return await Promise.race([check().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
