import { it } from 'node:test';
import { PostgresStore } from '../../src/gateway/store/postgres.js';
import { storeConformance } from './conformance.js';

const url = process.env.DATABASE_URL;
if (!url) {
  it(
    'postgres store conformance',
    { skip: 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' },
    () => {},
  );
} else {
  // A schema per run so parallel runs never collide.
  const schema = `t_store_${process.pid}_${Date.now().toString(36)}`;
  storeConformance(
    'postgres',
    () => PostgresStore.open(url, schema),
    async (s) => {
      await (s as PostgresStore).dropSchema();
      await s.close();
    },
  );
}
