import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Redis, Result } from 'ioredis';
import { RetryLaterException } from '../common/http-error.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { REDIS_WAIT_MS } from './rate-limits.js';

/** How long a client is told to wait when all its stream slots are taken. */
const RETRY_AFTER_SECONDS = 5;

/**
 * How long a slot in Redis outlives its holder's last renewal: a killed instance's slots free up
 * within this. Three renewals must be missed first, so a busy event loop or a Redis blip of a few
 * seconds does not drop a live answer's slot; a client is locked out of a crashed instance's
 * slots for at most this long.
 */
export const SLOT_LEASE_MS = 15_000;
/** The holder renews its slots this often. */
export const SLOT_RENEW_MS = 5_000;

export interface SlotTiming {
  readonly leaseMs: number;
  readonly renewMs: number;
}
/** Only the unit tests provide it, to watch leases run out in less than a second. */
export const SLOT_TIMING = Symbol('SLOT_TIMING');

// Redis's own clock (TIME) scores the slots, so instances whose clocks differ agree on expiry.
// Needs Redis 5 or newer: scripts replicate by their effects, so TIME may come before a write.
const NOW_MS = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;
/** Only ever lengthens the key's life: every member's expiry stays within it. */
const KEEP_KEY = `if redis.call('PTTL', KEYS[1]) < tonumber(lease) then redis.call('PEXPIRE', KEYS[1], lease) end`;

/** KEYS[1]: the client's slots; ARGV: slot id, limit, lease (ms). 1 if taken, 0 if all are taken. */
const TAKE_SLOT = `${NOW_MS}
local lease = ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(lease), ARGV[1])
${KEEP_KEY}
return 1`;

/**
 * KEYS[1]: the client's slots; ARGV: lease (ms), then slot ids. Adds the slots that are missing
 * too: a Redis that restarted empty (or missed a take while unreachable) learns of the answers
 * still running here, even if that puts the client over its limit for a while.
 */
const RENEW_SLOTS = `${NOW_MS}
local lease = ARGV[1]
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(lease), ARGV[i]) end
${KEEP_KEY}
return #ARGV - 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatTakeStreamSlot(key: string, slot: string, limit: number, leaseMs: number): Result<number, Context>;
    chatRenewStreamSlots(key: string, leaseMs: number, ...slots: string[]): Result<number, Context>;
  }
}

/**
 * MAX_STREAMS_PER_CLIENT: the answers each client has running. An answer holds its slot until it
 * is stored, whether or not its client still listens, so answers left to run on in the
 * background count too.
 *
 * Without REDIS_URL the count is this process's. With it, each client's slots are a sorted set
 * in Redis (`chat:streams:<client>`) of slot ids (instance and a random part) scored by when
 * they expire: a take drops expired slots, counts, and adds one if under the limit, in one
 * script; the instance renews the slots it holds every SLOT_RENEW_MS and removes each on
 * release, so a killed instance's slots expire within SLOT_LEASE_MS. While Redis is away (not
 * connected, or no answer within REDIS_WAIT_MS) a take counts this instance's slots only: never
 * a 500, never unlimited; the slots taken meanwhile reach Redis at the next renewal.
 */
@Injectable()
export class StreamSlots implements OnApplicationShutdown {
  private readonly logger = new Logger('StreamSlots');
  private readonly limit: number;
  private readonly timing: SlotTiming;
  private readonly instance = `${hostname()}:${process.pid}`;
  /** The slots this instance holds: slot id → client key. */
  private readonly held = new Map<string, string>();
  /** How many of `held` each client has: this instance's own count. */
  private readonly counts = new Map<string, number>();
  private renewal: ReturnType<typeof setInterval> | undefined;
  /** Whether the last take fell back to this instance's count (logged once per outage). */
  private fallenBack = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    @Optional() @Inject(SLOT_TIMING) timing?: SlotTiming,
  ) {
    this.limit = config.maxStreamsPerClient;
    this.timing = timing ?? { leaseMs: SLOT_LEASE_MS, renewMs: SLOT_RENEW_MS };
    const commands = redis.commands;
    if (commands && this.limit > 0) {
      commands.defineCommand('chatTakeStreamSlot', { numberOfKeys: 1, lua: TAKE_SLOT });
      commands.defineCommand('chatRenewStreamSlots', { numberOfKeys: 1, lua: RENEW_SLOTS });
      // Back from an outage: Redis (perhaps restarted empty) hears of this instance's slots at once, not a renewal later.
      commands.on('ready', () => this.renew());
    }
  }

  /** Takes one of the client's slots; resolves to what gives it back. Past the limit, a 429 with Retry-After. */
  async take(clientKey: string): Promise<() => void> {
    if (this.limit === 0) return () => undefined;
    const slot = `${this.instance}:${randomBytes(8).toString('hex')}`;
    const taken = await this.takeInRedis(clientKey, slot);
    if (taken === false || (taken === undefined && (this.counts.get(clientKey) ?? 0) >= this.limit)) {
      throw new RetryLaterException(`Too many answers streaming at once: at most ${this.limit} per client. Wait for one to finish.`, RETRY_AFTER_SECONDS);
    }
    return this.hold(clientKey, slot);
  }

  onApplicationShutdown(): void {
    this.stopRenewal();
  }

  /** Whether Redis gave the slot (true) or said the client has none left (false); undefined when Redis cannot say. */
  private async takeInRedis(clientKey: string, slot: string): Promise<boolean | undefined> {
    const commands = this.redis.commands;
    if (!commands) return undefined;
    if (!this.redis.ready) return this.fallBack('not connected');
    try {
      const taken = await withinWait(commands.chatTakeStreamSlot(slotsKey(clientKey), slot, this.limit, this.timing.leaseMs));
      this.fallenBack = false;
      return taken === 1;
    } catch (error) {
      // If the take did reach Redis after all, this instance holds that slot id anyway: renewed, then removed on release.
      return this.fallBack(error instanceof Error ? error.message : String(error));
    }
  }

  private fallBack(reason: string): undefined {
    if (!this.fallenBack) {
      this.fallenBack = true;
      this.logger.warn(`Redis is away (${reason}): stream slots count this instance's answers only until it is back`);
    }
    return undefined;
  }

  private hold(clientKey: string, slot: string): () => void {
    this.held.set(slot, clientKey);
    this.counts.set(clientKey, (this.counts.get(clientKey) ?? 0) + 1);
    const commands = this.redis.commands;
    if (commands && !this.renewal) {
      this.renewal = setInterval(() => this.renew(), this.timing.renewMs);
      this.renewal.unref();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(slot);
      const left = (this.counts.get(clientKey) ?? 1) - 1;
      if (left > 0) this.counts.set(clientKey, left);
      else this.counts.delete(clientKey);
      if (this.held.size === 0) this.stopRenewal();
      // Commands on one connection run in order, so a renewal sent before this cannot bring the slot back.
      // Unheard (Redis away), the slot expires with its lease.
      if (commands && this.redis.ready) commands.zrem(slotsKey(clientKey), slot).catch(() => undefined);
    };
  }

  private stopRenewal(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  /** Renews every slot this instance holds, one script per client. */
  private renew(): void {
    const commands = this.redis.commands;
    if (!commands || this.held.size === 0 || !this.redis.ready) return;
    const byClient = new Map<string, string[]>();
    for (const [slot, clientKey] of this.held) {
      const slots = byClient.get(clientKey);
      if (slots) slots.push(slot);
      else byClient.set(clientKey, [slot]);
    }
    for (const [clientKey, slots] of byClient) renewIn(commands, slotsKey(clientKey), this.timing.leaseMs, slots);
  }
}

function renewIn(commands: Redis, key: string, leaseMs: number, slots: string[]): void {
  // A failed renewal is retried by the next one, or on reconnecting; the lease outlasts both.
  commands.chatRenewStreamSlots(key, leaseMs, ...slots).catch(() => undefined);
}

function slotsKey(clientKey: string): string {
  return `chat:streams:${clientKey}`;
}

/** The promise's outcome, or a rejection once REDIS_WAIT_MS have passed without one. */
function withinWait<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_WAIT_MS} ms`)), REDIS_WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
