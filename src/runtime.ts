// Builds the pipeline and its stores for one mode. Service mode: Redis stores, BullMQ. Embedded mode:
// memory stores, no Redis. Everything the CLI commands and the tests start goes through here.
import { randomBytes } from 'node:crypto';
import { createRedis, type RedisClient } from './state/redis/connect.js';
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
import { DEFAULT_BASELINE_LIMITS, type BaselineStore } from './state/baseline.js';
import { MemoryBaselineStore } from './state/memory/baseline-store.js';
import { RedisBaselineStore } from './state/redis/baseline-store.js';
import { watchRuleDir } from './rules/watch.js';

export type StoreKind = 'memory' | 'redis';

export interface RuntimeOptions {
  env: Env;
  store: StoreKind;
  logger: Logger;
  metrics?: Metrics;
  rulesDir?: string;
  /** stamp incidents with event time instead of wall time (deterministic forensic replays) */
  eventClock?: boolean;
  /** reload the rules when a file in the rule folder (or its lists/) changes */
  watchRules?: boolean;
  keyPrefix?: string;
  onIncident?: (change: IncidentChange) => void | Promise<void>;
  /**
   * Memory store only: close an incident once its rule has not hit its session for the session TTL plus the rule's
   * cooldown (by event time), so scan can write and forget it (src/incidents/memory-store.ts).
   */
  closeIdleIncidents?: boolean;
  /** remember this many session-id HMACs by raw id (scan only: see SessionHasherOptions.remember); default none */
  rememberSessionHashes?: number;
}

/** Live sessions and users the embedded stores' caps dropped before their TTL (RG_MEMORY_MAX_SESSIONS / _USERS). */
export interface StateEvictions {
  sessions: number;
  users: number;
}

export interface Runtime {
  pipeline: Pipeline;
  rules: RuleEngine;
  windows: WindowStore;
  incidents: IncidentStore;
  metrics: Metrics;
  hasher: SessionHasher;
  keys?: KeySpace;
  redis?: RedisClient;
  /** the session key was generated for this process: hashes will not match any other process's */
  ephemeralKey: boolean;
  /** counted as they happen (always 0 with Redis, whose keys expire by TTL alone) */
  evictions: StateEvictions;
  reloadRules(): Promise<void>;
  close(): Promise<void>;
}

export { redisOptionsFromUrl } from './state/redis/connect.js';

export function sessionKey(env: Env, allowEphemeral: boolean): { key: string; ephemeral: boolean } {
  if (env.RG_SESSION_KEY) return { key: env.RG_SESSION_KEY, ephemeral: false };
  if (!allowEphemeral) throw new Error('RG_SESSION_KEY is required with REDIS_URL (a shared key makes every process hash session ids alike); generate one with: openssl rand -hex 32');
  return { key: randomBytes(32).toString('hex'), ephemeral: true };
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { env, logger } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const { key, ephemeral } = sessionKey(env, opts.store === 'memory');
  const hasher = new SessionHasher(key, { remember: opts.rememberSessionHashes ?? 0 });
  const limits = { ...DEFAULT_WINDOW_LIMITS, ttlSeconds: env.RG_SESSION_TTL_SECONDS };
  const now = opts.eventClock ? (d: Detection) => d.time : () => Date.now();
  const baselineLimits = { ...DEFAULT_BASELINE_LIMITS, ttlSeconds: env.RG_BASELINE_TTL_SECONDS };

  const evictions: StateEvictions = { sessions: 0, users: 0 };
  let redis: RedisClient | undefined;
  let keys: KeySpace | undefined;
  let windows: WindowStore;
  let incidents: IncidentStore;
  let baselines: BaselineStore;
  if (opts.store === 'redis') {
    if (!env.REDIS_URL) throw new Error('the redis store needs REDIS_URL');
    redis = createRedis(env, 'store');
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    await redis.connect();
    keys = new KeySpace(opts.keyPrefix ?? env.RG_KEY_PREFIX);
    windows = new RedisWindowStore(redis, keys, limits);
    incidents = new RedisIncidentStore(redis, keys, env.RG_INCIDENT_TTL_SECONDS, now);
    baselines = new RedisBaselineStore(redis, keys, baselineLimits);
  } else {
    windows = new MemoryWindowStore({
      limits, maxSessions: env.RG_MEMORY_MAX_SESSIONS,
      onEvict: () => {
        evictions.sessions++;
        metrics.stateEvicted.inc({ kind: 'session' });
      },
    });
    incidents = new MemoryIncidentStore(now, opts.closeIdleIncidents ? { closeAfterIdleMs: env.RG_SESSION_TTL_SECONDS * 1000 } : {});
    baselines = new MemoryBaselineStore(baselineLimits, env.RG_MEMORY_MAX_USERS, () => {
      evictions.users++;
      metrics.stateEvicted.inc({ kind: 'user' });
    });
  }

  const enricher = await createEnricher();
  const rules = new RuleEngine();
  const rulesDir = opts.rulesDir ?? env.RG_RULES_DIR;
  let reloading = Promise.resolve();
  const reloadRules = (): Promise<void> => {
    // Reloads run one at a time, each against the rule set the previous one left (for quarantine).
    reloading = reloading.then(async () => {
      const loaded = await loadRuleDir(rulesDir, rules.loaded);
      for (const e of loaded.errors) logger.error({ file: e.file, line: e.line, field: e.field }, `rule file error: ${formatRuleError(e)}`);
      for (const w of loaded.warnings) logger.warn({ file: w.file, line: w.line, field: w.field }, `rule file warning: ${formatRuleError(w)}`);
      for (const q of loaded.quarantined) logger.warn({ file: q }, 'rule file is invalid; its last good version keeps running');
      rules.setRules(loaded.rules, loaded.lists);
      metrics.rulesLoaded.set(loaded.rules.length);
      metrics.ruleLoadErrors.set(loaded.errors.length);
      logger.info({ rules: loaded.rules.map((r) => r.rule.id), lists: loaded.lists.names, errors: loaded.errors.length, dir: rulesDir }, 'rules loaded');
    }).catch((err: Error) => logger.error({ err: err.message, dir: rulesDir }, 'rule reload failed; the previous rule set keeps running'));
    return reloading;
  };
  await reloadRules();
  const stopWatching = opts.watchRules ? watchRuleDir(rulesDir, () => void reloadRules(), logger) : () => undefined;

  const deps = { enricher, windows, baselines, rules, incidents, metrics, logger, ...(opts.onIncident ? { onIncident: opts.onIncident } : {}) };
  const pipeline = new Pipeline(deps);
  const runtime: Runtime = {
    pipeline, rules, windows, incidents, metrics, hasher, ephemeralKey: ephemeral, evictions, reloadRules,
    async close() {
      stopWatching();
      await windows.close();
      await baselines.close();
      await incidents.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
  if (keys) runtime.keys = keys;
  if (redis) runtime.redis = redis;
  return runtime;
}
