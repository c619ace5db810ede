import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** ioredis's client class, loaded by RedisModule only when REDIS_URL is set; undefined otherwise. */
export const REDIS_CLIENT_CLASS = Symbol('REDIS_CLIENT_CLASS');

/** Commands fail at once while Redis is away (no queue to replay later), and the client reconnects by itself. */
const OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
  lazyConnect: false,
};

/**
 * The connections to REDIS_URL, shared by everything that coordinates instances (limits, answers
 * running elsewhere): one for commands and publishing, one for subscriptions (a connection that
 * subscribes can do nothing else). Without REDIS_URL, `enabled` is false and nothing connects.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly commands: Redis | undefined;
  private subscriberConnection: Redis | undefined;
  private lastError = '';

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS_CLIENT_CLASS) private readonly Client?: typeof Redis,
  ) {
    if (!config.redisUrl) return;
    this.commands = this.connect(config.redisUrl, 'commands');
  }

  get enabled(): boolean {
    return this.commands !== undefined;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.commands?.status === 'ready';
  }

  /**
   * Resolves once `connection` can take commands; rejects after `timeoutMs`. Commands fail at
   * once while a connection is not ready, so what must not fail in the first moments after
   * start-up (a subscription) waits here a little first.
   */
  whenReady(connection: Redis, timeoutMs: number): Promise<void> {
    if (connection.status === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        connection.off('ready', onReady);
        reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      connection.once('ready', onReady);
    });
  }

  /** The subscriber connection, made on first use. */
  get subscriber(): Redis {
    if (!this.commands) throw new Error('Redis is not configured (REDIS_URL)');
    return (this.subscriberConnection ??= this.connect(this.commands.options, 'subscriber'));
  }

  async onApplicationShutdown(): Promise<void> {
    const connections = [this.commands, this.subscriberConnection].filter((connection) => connection !== undefined);
    await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  private connect(target: string | RedisOptions, role: string): Redis {
    const Client = this.Client!; // set whenever REDIS_URL is
    const connection = typeof target === 'string' ? new Client(target, OPTIONS) : new Client({ ...target, ...OPTIONS });
    // An unhandled 'error' would end the process; Redis going away is logged once per cause instead.
    connection.on('error', (error: Error) => {
      const message = `${error.name}: ${error.message}`;
      if (message === this.lastError) return;
      this.lastError = message;
      this.logger.warn(`Redis (${role}) is not reachable: ${message}; retrying in the background`);
    });
    connection.on('ready', () => {
      if (this.lastError) this.logger.log(`Redis (${role}) is reachable again`);
      this.lastError = '';
    });
    return connection;
  }
}
