// Environment configuration, validated once at boot. Secrets (session HMAC key, API tokens) only ever
// come from here, never from files, and are never logged.
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const csv = z
  .string()
  .transform((s) => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0));

const envSchema = z.object({
  REDIS_URL: z.string().url().optional(),
  /** a Redis Cluster instead of REDIS_URL: host:port of some of its nodes, comma-separated */
  REDIS_CLUSTER_NODES: z.string().regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'host:port[,host:port...]').optional(),
  RG_SESSION_KEY: z.string().min(32, 'RG_SESSION_KEY must be at least 32 characters (use: openssl rand -hex 32)').optional(),
  RG_SESSION_KEY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  RG_API_TOKENS: csv.pipe(z.array(z.string().min(16, 'each RG_API_TOKENS token must be at least 16 characters'))).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(7420),
  HOST: z.string().min(1).default('127.0.0.1'),
  RG_RULES_DIR: z.string().min(1).default('rules'),
  RG_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,32}$/).default('rg'),
  RG_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  RG_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(10 * 1024 * 1024),
  RG_MAX_EVENTS_PER_REQUEST: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  RG_API_RATE_LIMIT: z.coerce.number().min(0).default(200),
  RG_API_RATE_BURST: z.coerce.number().int().min(1).optional(),
  RG_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  RG_INGEST_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(4),
  RG_WORKER_PARTITIONS: z.string().optional(),
  RG_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  RG_SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(100).default(25_000),
  RG_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  RG_MAX_QUEUE_DEPTH: z.coerce.number().int().min(1).default(200_000),
  RG_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  RG_BASELINE_TTL_SECONDS: z.coerce.number().int().min(3600).default(90 * 24 * 3600),
  RG_INCIDENT_TTL_SECONDS: z.coerce.number().int().min(3600).default(90 * 24 * 3600),
  /**
   * Most sessions and users the embedded (in-memory) stores hold; past them the least recently seen go before their
   * TTL, counted in rg_state_evicted_total and in scan's summary. Each costs a few KB (docs/sources.md).
   */
  RG_MEMORY_MAX_SESSIONS: z.coerce.number().int().min(1).max(100_000_000).default(250_000),
  RG_MEMORY_MAX_USERS: z.coerce.number().int().min(1).max(100_000_000).default(250_000),
});

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings mean "unset" (docker-compose passes `FOO=` through).
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  // A cluster is service mode too: everything that asks "is there a Redis?" looks at REDIS_URL.
  if (parsed.data.REDIS_CLUSTER_NODES && !parsed.data.REDIS_URL) parsed.data.REDIS_URL = `redis://${parsed.data.REDIS_CLUSTER_NODES.split(',')[0]}`;
  return parsed.data;
}
