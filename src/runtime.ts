// Builds the pipeline and its stores for one mode. Service mode: Redis stores, BullMQ. Embedded mode:
// memory stores, no Redis. Everything the CLI commands and the tests start goes through here.
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Env } from './config/env.js';
import { createEnricher } from './enrich/index.js';
import { SessionHasher } from './events/normalize.js';
import type { Detection } from './incidents/model.js';
import { MemoryIncidentStore } from './incidents/memory-store.js';
import { RedisIncidentStore } from './incidents/redis-store.js';
import type { IncidentStore } from './incidents/store.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { Pipeline, type IncidentChange } from './pipeline/pipeline.js';
import { RuleEngine } from './rules/engine.js';
import { formatRuleError, loadRuleDir } from './rules/loader.js';
import { MemoryWindowStore } from './state/memory/window-store.js';
import { KeySpace } from './state/redis/keys.js';
import { RedisWindowStore } from './state/redis/window-store.js';
import { DEFAULT_WINDOW_LIMITS, type WindowStore } from './state/window.js';

export type StoreKind = 'memory' | 'redis';

export interface RuntimeOptions {
  env: Env;
  store: StoreKind;
  logger: Logger;
  metrics?: Metrics;
  rulesDir?: string;
  /** stamp incidents with event time instead of wall time (deterministic forensic replays) */
  eventClock?: boolean;
  keyPrefix?: string;
  onIncident?: (change: IncidentChange) => void | Promise<void>;
}

export interface Runtime {
  pipeline: Pipeline;
  rules: RuleEngine;
  windows: WindowStore;
  incidents: IncidentStore;
  metrics: Metrics;
  hasher: SessionHasher;
  keys?: KeySpace;
  redis?: Redis;
  /** the session key was generated for this process: hashes will not match any other process's */
  ephemeralKey: boolean;
  reloadRules(): Promise<void>;
  close(): Promise<void>;
}

export function redisOptionsFromUrl(url: string, extra: RedisOptions = {}): RedisOptions {
  const u = new URL(url);
  const opts: RedisOptions = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), ...extra };
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.pathname.length > 1) opts.db = Number(u.pathname.slice(1));
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

export function sessionKey(env: Env, allowEphemeral: boolean): { key: string; ephemeral: boolean } {
  if (env.RG_SESSION_KEY) return { key: env.RG_SESSION_KEY, ephemeral: false };
  if (!allowEphemeral) throw new Error('RG_SESSION_KEY is required with REDIS_URL (a shared key makes every process hash session ids alike); generate one with: openssl rand -hex 32');
  return { key: randomBytes(32).toString('hex'), ephemeral: true };
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { env, logger } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const { key, ephemeral } = sessionKey(env, opts.store === 'memory');
  const hasher = new SessionHasher(key);
  const limits = { ...DEFAULT_WINDOW_LIMITS, ttlSeconds: env.RG_SESSION_TTL_SECONDS };
  const now = opts.eventClock ? (d: Detection) => d.time : () => Date.now();

  let redis: Redis | undefined;
  let keys: KeySpace | undefined;
  let windows: WindowStore;
  let incidents: IncidentStore;
  if (opts.store === 'redis') {
    if (!env.REDIS_URL) throw new Error('the redis store needs REDIS_URL');
    redis = new Redis(redisOptionsFromUrl(env.REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: true }));
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    await redis.connect();
    keys = new KeySpace(opts.keyPrefix ?? env.RG_KEY_PREFIX);
    windows = new RedisWindowStore(redis, keys, limits);
    incidents = new RedisIncidentStore(redis, keys, env.RG_INCIDENT_TTL_SECONDS, now);
  } else {
    windows = new MemoryWindowStore({ limits });
    incidents = new MemoryIncidentStore(now);
  }

  const enricher = await createEnricher();
  const rules = new RuleEngine();
  const rulesDir = opts.rulesDir ?? env.RG_RULES_DIR;
  const reloadRules = async (): Promise<void> => {
    const loaded = await loadRuleDir(rulesDir);
    for (const e of loaded.errors) logger.error({ file: e.file, line: e.line, field: e.field }, `rule file error: ${formatRuleError(e)}`);
    rules.setRules(loaded.rules);
    metrics.rulesLoaded.set(loaded.rules.length);
    metrics.ruleLoadErrors.set(loaded.errors.length);
    logger.info({ rules: loaded.rules.map((r) => r.rule.id), errors: loaded.errors.length, dir: rulesDir }, 'rules loaded');
  };
  await reloadRules();

  const deps = { enricher, windows, rules, incidents, metrics, logger, ...(opts.onIncident ? { onIncident: opts.onIncident } : {}) };
  const pipeline = new Pipeline(deps);
  const runtime: Runtime = {
    pipeline, rules, windows, incidents, metrics, hasher, ephemeralKey: ephemeral, reloadRules,
    async close() {
      await windows.close();
      await incidents.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
  if (keys) runtime.keys = keys;
  if (redis) runtime.redis = redis;
  return runtime;
}
