import { it } from 'node:test';
import { RedisLimiter } from '../../src/gateway/limiter/redis.js';
import { limiterConformance } from './limiter-conformance.js';

const url = process.env.REDIS_URL;
if (!url) {
  it('redis limiter conformance', { skip: 'REDIS_URL is not set (e.g. redis://127.0.0.1:6379)' }, () => {});
} else {
  limiterConformance(
    'redis',
    async () => new RedisLimiter(url, `inferd-test:${process.pid}:${Date.now().toString(36)}:`),
    async (l) => {
      await (l as RedisLimiter).clear();
      await l.close();
    },
  );
}
