/** Opens the configured store: PostgreSQL when a database URL is given, else SQLite in the data dir. */
import { join, resolve } from 'node:path';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreOptions {
  /** Folder for the embedded database (`<dataDir>/inferd.db`). */
  dataDir: string;
  /** postgres://… ; when set the SQLite file is not used. */
  databaseUrl?: string;
  /** PostgreSQL schema (default `inferd`). */
  databaseSchema?: string;
}

function sqlitePath(dataDir: string): string {
  return join(resolve(dataDir), 'inferd.db');
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return PostgresStore.open(opts.databaseUrl, opts.databaseSchema);
  return new SqliteStore(sqlitePath(opts.dataDir));
}
