import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';

/** Both rate limits count per minute. */
export const RATE_WINDOW_SECONDS = 60;

/**
 * How long a limit waits for Redis before counting on this instance instead. Redis answers in a
 * millisecond or two; one that still accepts connections but has stopped answering (paused,
 * swapping, a network that drops packets without a reset) must not hold every request.
 */
export const REDIS_WAIT_MS = 500;

/**
 * A point given back this close to the end of its window is kept: given back after the window
 * ended, it would become a spare point in the next one (the store starts the new window from it).
 */
const GIVE_BACK_MARGIN_MS = 1_000;

/** What counting one hit returned: admitted (with when its window ends, to give it back), or how long to wait. */
export type RateHit = { readonly admitted: true; readonly windowEndsAt: number } | { readonly admitted: false; readonly retryAfterSeconds: number };

/** The part of a rate-limiter-flexible limiter used here; every limiter kind has it. */
interface Limiter {
  consume(key: string): Promise<RateLimiterRes>;
  reward(key: string): Promise<RateLimiterRes>;
}

/**
 * One per-client limit, `limit` hits a minute (rate-limiter-flexible: a fixed window per client
 * that opens at its first hit). `refusalsFree`: a refused hit is given back, so that it costs
 * nothing (the answer quota, whose reservations are given back too: a refusal must not eat a point
 * a returned reservation frees). The request limit keeps refusals counted instead: it refuses
 * the rest of the window from memory, without asking Redis, once a client is over.
 */
export class ClientRateLimit {
  constructor(
    private readonly limiter: Limiter,
    readonly limit: number,
    private readonly refusalsFree: boolean,
  ) {}

  async hit(clientKey: string): Promise<RateHit> {
    let res: RateLimiterRes;
    try {
      res = await this.limiter.consume(clientKey);
    } catch (rejection) {
      // Anything but a refusal is a store failure the in-memory insurance could not absorb either.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (this.refusalsFree) this.reward(clientKey);
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    }
    return { admitted: true, windowEndsAt: Date.now() + res.msBeforeNext };
  }

  /** Takes back an admitted hit (a request that turned out not to count). */
  giveBack(clientKey: string, hit: Extract<RateHit, { admitted: true }>): void {
    if (Date.now() < hit.windowEndsAt - GIVE_BACK_MARGIN_MS) this.reward(clientKey);
  }

  private reward(clientKey: string): void {
    // Best effort: a point Redis did not hear about is gone at the end of the window anyway.
    this.limiter.reward(clientKey).catch(() => undefined);
  }
}

/**
 * RATE_LIMIT_REQUESTS_PER_MINUTE and RATE_LIMIT_ANSWERS_PER_MINUTE (undefined when 0: off).
 * With REDIS_URL the counts live in Redis, so every instance counts against the same minute;
 * while Redis is away (not connected, a command failing or slower than REDIS_WAIT_MS) each
 * instance counts in memory (rate-limiter-flexible's insurance limiter): limits hold per
 * instance, never a 500 and never an open door. Without REDIS_URL, memory only.
 */
@Injectable()
export class RateLimits {
  private readonly logger = new Logger('RateLimits');
  readonly requests: ClientRateLimit | undefined;
  readonly answers: ClientRateLimit | undefined;
  /** Where the counts live, for the start-up log. */
  readonly store: 'redis' | 'memory';

  constructor(@Inject(APP_CONFIG) config: AppConfig, redis: RedisService) {
    const commands = redis.commands;
    this.store = commands ? 'redis' : 'memory';
    const { requestsPerMinute, answersPerMinute } = config.rateLimits;
    this.requests = requestsPerMinute > 0 ? new ClientRateLimit(limiter('requests', requestsPerMinute, commands, true), requestsPerMinute, false) : undefined;
    this.answers = answersPerMinute > 0 ? new ClientRateLimit(limiter('answers', answersPerMinute, commands, false), answersPerMinute, true) : undefined;
    if (commands && (this.requests || this.answers)) this.noticeOutages(commands);
  }

  /** Once per outage: Redis's own log says it is away, this says what that means for the limits. */
  private noticeOutages(commands: Redis): void {
    let away = false;
    // 'reconnecting', not 'close': a connection closed by shutdown is not an outage.
    commands.on('reconnecting', () => {
      if (away) return;
      away = true;
      this.logger.warn('Redis is away: each instance counts rate limits on its own until it is back');
    });
    commands.on('ready', () => (away = false));
  }
}

function limiter(what: 'requests' | 'answers', points: number, redis: Redis | undefined, refuseOverFromMemory: boolean): Limiter {
  const options = { keyPrefix: `chat:rate:${what}`, points, duration: RATE_WINDOW_SECONDS };
  const local = new RateLimiterMemory(options);
  if (!redis) return local;
  const shared = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    // Straight to the insurance while disconnected, rather than a command that fails anyway.
    rejectIfRedisNotReady: true,
    insuranceLimiter: local,
    // A client over the limit is refused from memory for the rest of its window: a flood costs Redis one command per instance.
    ...(refuseOverFromMemory && { inMemoryBlockOnConsumed: points + 1 }),
  });
  return new RLWrapperTimeouts({ limiter: shared, timeoutMs: REDIS_WAIT_MS });
}

/** The message of a rate limit's 429, the same for requests and answers. */
export function tooManyMessage(what: 'requests' | 'answers', limit: number, retryAfterSeconds: number): string {
  return `Too many ${what}: at most ${limit} a minute. Try again in ${retryAfterSeconds} s.`;
}
