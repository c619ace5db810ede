import { Redis } from 'ioredis';
import { RetryLaterException } from '../common/http-error.filter.js';
import type { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { describeWithRedis, RedisServer } from '../../test/support/redis-server.js';
import { StreamSlots, type SlotTiming } from './stream-slots.js';

const config = (maxStreamsPerClient: number, redisUrl?: string) => ({ maxStreamsPerClient, redisUrl }) as AppConfig;

/** The 429 a full client gets, or what `take` returned. */
async function attempt(slots: StreamSlots, clientKey: string): Promise<(() => void) | 429> {
  try {
    return await slots.take(clientKey);
  } catch (error) {
    if (error instanceof RetryLaterException && error.getStatus() === 429) return 429;
    throw error;
  }
}

async function taken(slots: StreamSlots, clientKey: string): Promise<() => void> {
  const result = await attempt(slots, clientKey);
  if (result === 429) throw new Error(`${clientKey} got a 429`);
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await sleep(25)) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
  }
}

describe('StreamSlots without Redis', () => {
  const slots = new StreamSlots(config(2), new RedisService(config(2)));

  it('counts per client, gives a slot back once however often it is released, and says when to retry', async () => {
    const first = await taken(slots, 'a');
    await taken(slots, 'a');
    const refused = await slots.take('a').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RetryLaterException);
    expect(refused).toMatchObject({ retryAfterSeconds: 5, message: expect.stringMatching(/at most 2 per client/) });
    expect(typeof (await attempt(slots, 'b'))).toBe('function'); // another client counts apart
    first();
    first();
    await taken(slots, 'a');
    expect(await attempt(slots, 'a')).toBe(429);
  });

  it('takes no count with MAX_STREAMS_PER_CLIENT=0', async () => {
    const unlimited = new StreamSlots(config(0), new RedisService(config(0)));
    for (let i = 0; i < 10; i++) await taken(unlimited, 'a');
  });
});

describeWithRedis()('StreamSlots in Redis', () => {
  // Short leases, so that expiry is watched in a second rather than SLOT_LEASE_MS.
  const timing: SlotTiming = { leaseMs: 600, renewMs: 150 };
  let server: RedisServer;
  const instances: { redis: RedisService; slots: StreamSlots }[] = [];
  let client = 0;
  let key: string;

  const instance = async (max = 1) => {
    const redis = new RedisService(config(max, server.url), Redis);
    const slots = new StreamSlots(config(max, server.url), redis, timing);
    instances.push({ redis, slots });
    await eventually(() => redis.ready, 'connected to Redis');
    return slots;
  };

  beforeAll(async () => (server = await RedisServer.start()));
  afterAll(() => server.stop());
  beforeEach(() => (key = `client-${++client}`));
  afterEach(async () => {
    for (const { redis, slots } of instances.splice(0)) {
      slots.onApplicationShutdown();
      await redis.onApplicationShutdown();
    }
  });

  it('shares the limit between instances; a release frees the slot for the other', async () => {
    const [a, b] = [await instance(2), await instance(2)];
    const release = await taken(a, key);
    await taken(b, key);
    expect([await attempt(a, key), await attempt(b, key)]).toEqual([429, 429]);
    release();
    await eventually(async () => (await attempt(b, key)) !== 429, "a's release reached Redis");
    expect(await attempt(a, key)).toBe(429);
  });

  it('keeps a slot past its lease while its holder renews it, and frees it within the lease once the holder stops', async () => {
    const [a, b] = [await instance(), await instance()];
    await taken(a, key);
    await sleep(timing.leaseMs * 2);
    expect(await attempt(b, key)).toBe(429);
    a.onApplicationShutdown(); // renews no more, as if killed
    await eventually(async () => (await attempt(b, key)) !== 429, 'the lease ran out', timing.leaseMs * 4);
  });

  it("counts this instance's slots while Redis is away, never failing otherwise, and tells Redis of them once it is back", async () => {
    const [a, b] = [await instance(), await instance()];
    await server.kill();
    const releaseA = await taken(a, key);
    expect(await attempt(a, key)).toBe(429); // this instance's own count
    const releaseB = await taken(b, key); // b counts its own
    await server.restart();
    await eventually(() => instances.every(({ redis }) => redis.ready), 'reconnected');
    // Both renewed on reconnecting: a third instance finds the client's slot taken.
    const c = await instance();
    await eventually(async () => (await attempt(c, key)) === 429, 'the slots reached the restarted Redis');
    releaseA();
    releaseB();
    await eventually(async () => (await attempt(c, key)) !== 429, 'both releases reached Redis');
  });
});
