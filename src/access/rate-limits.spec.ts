import type { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { type ClientRateLimit, type RateHit, RateLimits } from './rate-limits.js';

const config = (requestsPerMinute: number, answersPerMinute: number) =>
  ({ rateLimits: { requestsPerMinute, answersPerMinute }, redisUrl: undefined }) as AppConfig;
const limits = (requestsPerMinute: number, answersPerMinute: number) => {
  const c = config(requestsPerMinute, answersPerMinute);
  return new RateLimits(c, new RedisService(c));
};

function admitted(hit: RateHit): Extract<RateHit, { admitted: true }> {
  if (!hit.admitted) throw new Error('the hit was refused');
  return hit;
}

describe('RateLimits without Redis', () => {
  it('counts in memory, and a limit of 0 is off', () => {
    const off = limits(0, 0);
    expect([off.store, off.requests, off.answers]).toEqual(['memory', undefined, undefined]);
  });

  it('admits `limit` hits per client a minute, then says how long until its window ends', async () => {
    const requests = limits(3, 0).requests!;
    for (let i = 0; i < 3; i++) admitted(await requests.hit('a'));
    const refused = await requests.hit('a');
    expect(refused.admitted).toBe(false);
    expect(refused).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    const wait = (refused as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect((await requests.hit('b')).admitted).toBe(true); // another client counts apart
  });

  it('takes back a hit given back; a refused answer costs nothing, so a given-back one can be used again', async () => {
    const answers: ClientRateLimit = limits(0, 2).answers!;
    const first = admitted(await answers.hit('a'));
    admitted(await answers.hit('a'));
    expect((await answers.hit('a')).admitted).toBe(false);
    answers.giveBack('a', first);
    admitted(await answers.hit('a'));
    expect((await answers.hit('a')).admitted).toBe(false);
  });
});
