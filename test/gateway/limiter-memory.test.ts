import { MemoryLimiter } from '../../src/gateway/limiter/memory.js';
import { limiterConformance } from './limiter-conformance.js';

limiterConformance(
  'memory',
  async () => new MemoryLimiter(),
  (l) => l.close(),
);
