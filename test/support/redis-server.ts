import { hasRedisServer, REDIS_SERVER } from './redis-process.js';

export { RedisServer } from './redis-process.js';

/**
 * `describe` when Debian's redis-server is installed; otherwise a loud skip on a laptop, and an
 * error where every test must run (CHAT_TESTS_REQUIRE_ALL=1, as .ci/run sets).
 */
export function describeWithRedis(): jest.Describe {
  if (hasRedisServer()) return describe;
  if (process.env.CHAT_TESTS_REQUIRE_ALL === '1') {
    throw new Error(`Redis tests are required here, but there is no redis-server at ${REDIS_SERVER} (apt-get install -y redis-server)`);
  }
  console.warn(`\n*** SKIPPING the Redis tests: no redis-server at ${REDIS_SERVER}. Install it with: apt-get install -y redis-server ***\n`);
  return describe.skip;
}
