import { MemoryLimiter } from '../../src/limiter/memory.js';
import { limiterConformance } from './limiter-conformance.js';

limiterConformance(
  'memory',
  async () => new MemoryLimiter(),
  (l) => l.close(),
);
