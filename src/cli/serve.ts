// `replayguard serve` (npm start) and `replayguard worker`. Without REDIS_URL: embedded, one process,
// memory state, loopback only. With REDIS_URL: the API enqueues to BullMQ and (unless --no-worker) a
// worker in the same process consumes; `replayguard worker` runs workers alone.
import { randomBytes } from 'node:crypto';
import { buildApp } from '../api/app.js';
import type { IncidentChange } from '../pipeline/pipeline.js';
import { loadResponseConfig } from '../response/config.js';
import { MemoryDispatcher, QueueDispatcher } from '../response/dispatch.js';
import { Responder } from '../response/responder.js';
import { loadSigner } from '../response/set.js';
import { MemoryRevocationStore, RedisRevocationStore } from '../response/store.js';
import { localExceptionWriter } from '../rules/local-exceptions.js';
import { parseApiTokens, type ApiToken } from '../api/auth.js';
import { loadEnv, type Env } from '../config/env.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { createEmitter } from '../outputs/emitter.js';
import { createIngestWorkers, DirectIngestor, parsePartitionList, QueueIngestor, type Ingestor } from '../queue/ingest.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { createRedis, workerConnection, type RedisClient } from '../state/redis/connect.js';

export interface ServeOptions {
  worker: boolean;
  api: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunningService {
  url?: string;
  runtime: Runtime;
  responder: Responder;
  close(): Promise<void>;
}

function readiness(runtime: Runtime, redis: RedisClient | undefined) {
  return async () => {
    const checks: Record<string, string> = {};
    let ready = true;
    if (redis) {
      try {
        await Promise.race([redis.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000))]);
        checks.redis = 'ok';
      } catch (err) {
        checks.redis = `unavailable: ${(err as Error).message}`;
        ready = false;
      }
    }
    const n = runtime.rules.rules.length;
    checks.rules = n > 0 ? `${n} loaded` : 'none loaded';
    if (n === 0) ready = false;
    return { ready, checks };
  };
}

export async function startService(opts: ServeOptions, logger?: Logger): Promise<RunningService> {
  const env: Env = loadEnv(opts.env ?? process.env);
  const log = logger ?? createLogger(env.RG_LOG_LEVEL);
  const embedded = !env.REDIS_URL;
  const metrics = new Metrics({ defaultMetrics: true });
  if (!embedded && !env.RG_SESSION_KEY) throw new Error('RG_SESSION_KEY is required with REDIS_URL; generate one with: openssl rand -hex 32');
  if (!embedded && opts.api && !env.RG_API_TOKENS?.length) throw new Error('RG_API_TOKENS is required with REDIS_URL (comma-separated bearer tokens, 16+ characters each)');

  // Sinks first: a bad sinks file stops the start before anything listens.
  const emitter = await createEmitter({ env, rawEnv: opts.env ?? process.env, logger: log, metrics, worker: embedded || opts.worker });
  // And the response file: a webhook secret that is not set must stop the start, not the first revocation.
  const responseConfig = await loadResponseConfig(opts.env ?? process.env);
  const signer = responseConfig.signing ? await loadSigner(responseConfig.signing.pem, responseConfig.signing.alg) : undefined;
  let responder: Responder | undefined;
  const onIncident = async (change: IncidentChange): Promise<void> => {
    emitter.onIncident(change);
    // A failed response step must not fail (and re-run) the ingest job: it is logged and counted.
    await responder?.onIncident(change).catch((err: Error) => {
      metrics.revocations.inc({ decision: 'error', initiated_by: 'policy' });
      log.error({ incident: change.incident.id, err: err.message }, 'response step failed for this incident');
    });
  };
  const runtime = await createRuntime({ env, store: embedded ? 'memory' : 'redis', logger: log, watchRules: true, metrics, onIncident });
  const closers: (() => Promise<unknown>)[] = [() => emitter.close()];
  let ingestor: Ingestor;
  let producerRedis: RedisClient | undefined;
  const prefix = runtime.keys?.queuePrefix() ?? 'rg:q';

  if (embedded) {
    ingestor = new DirectIngestor(runtime.pipeline, env.RG_BATCH_SIZE);
  } else {
    // Producers fail fast when Redis is away (never a 202 for what could not be kept); workers wait.
    producerRedis = createRedis(env, 'producer');
    producerRedis.on('error', (err) => log.warn({ err: err.message }, 'redis (producer) connection error'));
    await producerRedis.connect();
    const queue = new QueueIngestor(producerRedis, prefix, env.RG_BATCH_SIZE, env.RG_INGEST_PARTITIONS);
    ingestor = queue;
    closers.push(() => queue.close());
    if (opts.worker) {
      const workers = createIngestWorkers({
        connection: workerConnection(env),
        prefix, pipeline: runtime.pipeline, metrics, logger: log, concurrency: env.RG_WORKER_CONCURRENCY,
        partitions: parsePartitionList(env.RG_WORKER_PARTITIONS, env.RG_INGEST_PARTITIONS), stalledIntervalMs: env.RG_STALLED_INTERVAL_MS,
      });
      // Graceful: stop taking jobs, let those in flight finish (BullMQ's close waits for them).
      closers.unshift(() => Promise.all(workers.map((w) => w.close())));
    }
  }

  const ctx = { targets: new Map(responseConfig.targets.map((t) => [t.name, t])), metrics, logger: log };
  const revocationStore = embedded ? new MemoryRevocationStore() : new RedisRevocationStore(runtime.redis!, runtime.keys!, env.RG_INCIDENT_TTL_SECONDS);
  const dispatcher = embedded
    ? new MemoryDispatcher({ ...ctx, store: revocationStore })
    : new QueueDispatcher({ ...ctx, store: revocationStore }, producerRedis!, prefix, opts.worker ? { connection: workerConnection(env), concurrency: 4 } : undefined);
  responder = new Responder({
    config: responseConfig, store: revocationStore, dispatcher, incidents: runtime.incidents, windows: runtime.windows, metrics, logger: log,
    ...(signer ? { signer } : {}),
  });
  closers.push(() => responder!.close());

  let url: string | undefined;
  if (opts.api) {
    let tokens: ApiToken[] = parseApiTokens(env.RG_API_TOKENS ?? []);
    if (embedded && tokens.length === 0) {
      const token = randomBytes(24).toString('base64url');
      tokens = [{ name: 'local-admin', role: 'admin', secret: token }];
      // Printed once to the terminal of the person who started it, never to the JSON log.
      process.stderr.write(`replayguard: RG_API_TOKENS is not set; this run's API token is ${token}\n`);
    }
    const host = embedded ? '127.0.0.1' : env.HOST;
    if (embedded && env.HOST !== '127.0.0.1') log.warn({ host: env.HOST }, 'embedded mode listens on 127.0.0.1 only; set REDIS_URL to serve other hosts');
    const app = await buildApp({
      logger: log, metrics, tokens, hasher: runtime.hasher, ingestor, incidents: runtime.incidents, deliveries: emitter.admin,
      responder, windows: runtime.windows, exceptions: localExceptionWriter(env.RG_RULES_DIR), ...(signer ? { signer } : {}),
      readiness: readiness(runtime, runtime.redis), maxBodyBytes: env.RG_MAX_BODY_BYTES,
      maxEventsPerRequest: env.RG_MAX_EVENTS_PER_REQUEST, maxQueueDepth: env.RG_MAX_QUEUE_DEPTH,
      rateLimitPerSecond: env.RG_API_RATE_LIMIT, ...(env.RG_API_RATE_BURST ? { rateLimitBurst: env.RG_API_RATE_BURST } : {}),
    });
    url = await app.listen({ port: env.PORT, host });
    closers.unshift(() => app.close());
    if (embedded) {
      log.info({ url }, `replayguard running EMBEDDED on ${url}: in-memory state, one process, loopback only${runtime.ephemeralKey ? ', ephemeral session key (RG_SESSION_KEY unset)' : ''}; set REDIS_URL for the service mode`);
    } else {
      log.info({ url, worker: opts.worker }, `replayguard running on ${url} with Redis and BullMQ${opts.worker ? ' (API and worker)' : ' (API only)'}`);
    }
  } else {
    log.info({ concurrency: env.RG_WORKER_CONCURRENCY }, 'replayguard worker running');
  }

  const service: RunningService = {
    runtime,
    responder,
    async close() {
      for (const c of closers) await c().catch((err: Error) => log.warn({ err: err.message }, 'error while closing'));
      if (producerRedis) await producerRedis.quit().catch(() => producerRedis?.disconnect());
      await runtime.close();
    },
  };
  if (url) service.url = url;
  return service;
}
