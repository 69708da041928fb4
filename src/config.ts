/**
 * Server settings from flags, environment (INFERD_*) and an optional JSON config file, in that order
 * of precedence, validated once at start-up. A bad value names the setting, where it came from and
 * the allowed range.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const MiB = 1024 * 1024;

/** Heap limit after a full GC = live size × (1 + percent / 100): see src/cli/process/heap-growth.ts. */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

const port = z.coerce.number().int().min(0).max(65535);

export const settingsSchema = z.object({
  modelRepository: z.string().min(1).default('./models'),
  host: z.string().min(1).default('0.0.0.0'),
  /** `$PORT` (Cloud Run, SageMaker) when set, else 8080. */
  httpPort: port.default(8080),
  /** gRPC (GRPCInferenceService + grpc.health.v1) port; 0 picks a free one. */
  grpcPort: port.default(8081),
  /** Largest request body; 64 MiB fits a 4k RGB FP32 image tensor in binary form. */
  maxBodyBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2048 * MiB)
    .default(64 * MiB),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Ready only when every model is READY (Triton's --strict-readiness). */
  strictReadiness: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(false),
  /** Longest wait for in-flight requests on SIGTERM before exiting anyway. */
  shutdownTimeoutMs: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** V8 heap limit after a full GC = live × (1 + this / 100); 0 = V8's own sizing (src/cli/process/heap-growth.ts). */
  heapGrowingPercent: z.coerce.number().int().min(0).max(1000).default(DEFAULT_HEAP_GROWING_PERCENT),
  /** Customer API gateway (/v1): `off` skips keys, limits and metering (local development only). */
  auth: z.enum(['on', 'off']).default('on'),
  /** Folder of the embedded store (`<dataDir>/inferd.db`), shared by `inferd serve` and `inferd keys`. */
  dataDir: z.string().min(1).default('./.inferd'),
  /** postgres://… : keys and usage in PostgreSQL (shared by replicas) instead of SQLite. */
  databaseUrl: z.string().optional(),
  /** PostgreSQL schema holding inferd's tables (one per deployment or test run). */
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('inferd'),
  /** redis://… : rate limits and quotas shared by replicas instead of in-process. */
  redisUrl: z.string().optional(),
  /** JSON file replacing the default plans and model weights (src/gateway/plans.ts). */
  plansFile: z.string().optional(),
  /** Bearer token of the /admin API; the admin API is disabled when unset. At least 16 characters. */
  adminToken: z.string().min(16).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = Partial<Record<keyof Settings, unknown>>;

/** Flag and env names per setting, for messages and for reading the environment. */
export const SETTING_SOURCES: Record<keyof Settings, { flag: string; env: string }> = {
  modelRepository: { flag: '--model-repository', env: 'INFERD_MODEL_REPOSITORY' },
  host: { flag: '--host', env: 'INFERD_HOST' },
  httpPort: { flag: '--http-port', env: 'INFERD_HTTP_PORT' },
  grpcPort: { flag: '--grpc-port', env: 'INFERD_GRPC_PORT' },
  maxBodyBytes: { flag: '--max-body-bytes', env: 'INFERD_MAX_BODY_BYTES' },
  logLevel: { flag: '--log-level', env: 'INFERD_LOG_LEVEL' },
  strictReadiness: { flag: '--strict-readiness', env: 'INFERD_STRICT_READINESS' },
  shutdownTimeoutMs: { flag: '--shutdown-timeout-ms', env: 'INFERD_SHUTDOWN_TIMEOUT_MS' },
  heapGrowingPercent: { flag: '--heap-growing-percent', env: 'INFERD_HEAP_GROWING_PERCENT' },
  auth: { flag: '--auth', env: 'INFERD_AUTH' },
  dataDir: { flag: '--data-dir', env: 'INFERD_DATA_DIR' },
  databaseUrl: { flag: '--database-url', env: 'INFERD_DATABASE_URL' },
  databaseSchema: { flag: '--database-schema', env: 'INFERD_DATABASE_SCHEMA' },
  redisUrl: { flag: '--redis-url', env: 'INFERD_REDIS_URL' },
  plansFile: { flag: '--plans-file', env: 'INFERD_PLANS_FILE' },
  adminToken: { flag: '--admin-token', env: 'INFERD_ADMIN_TOKEN' },
};

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function fromEnv(env: NodeJS.ProcessEnv): SettingsInput {
  const out: SettingsInput = {};
  for (const [key, src] of Object.entries(SETTING_SOURCES) as [keyof Settings, { env: string }][]) {
    if (env[src.env] !== undefined && env[src.env] !== '') out[key] = env[src.env];
  }
  if (out.httpPort === undefined && env.PORT) out.httpPort = env.PORT;
  return out;
}

function fromFile(path: string): SettingsInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`config file '${path}' cannot be read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`config file '${path}' is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`config file '${path}' must hold a JSON object of settings`);
  }
  const unknown = Object.keys(raw).filter((k) => !(k in SETTING_SOURCES));
  if (unknown.length > 0) {
    throw new SettingsError(
      `config file '${path}': unknown setting(s) ${unknown.join(', ')}; known: ${Object.keys(SETTING_SOURCES).join(', ')}`,
    );
  }
  return raw as SettingsInput;
}

/** Merges file < env < flags and validates. */
export function loadSettings(
  flags: SettingsInput,
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): Settings {
  const merged: SettingsInput = { ...(configFile ? fromFile(configFile) : {}), ...fromEnv(env) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k as keyof Settings] = v;
  const res = settingsSchema.safeParse(merged);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof Settings;
      const src = SETTING_SOURCES[key];
      const where = src ? ` (flag ${src.flag}, env ${src.env})` : '';
      return `invalid setting ${key}${where}: ${i.message}, got ${JSON.stringify(merged[key])}`;
    });
    throw new SettingsError(lines.join('\n'));
  }
  return res.data;
}
