// The emit step: the pipeline's onIncident hook. For every created or updated incident, one delivery per sink
// whose filter accepts it. The detection path never waits for a sink: onIncident only hands jobs to the
// delivery backend and returns; sending, retrying and dead-lettering happen elsewhere (a BullMQ worker, or the
// in-memory loop of embedded mode).
//
// In service mode enqueueing is a Redis call. If Redis refuses it (down, or the producer's fail-fast offline
// queue), the jobs wait in a bounded in-process buffer and are enqueued again with backoff: the pipeline does
// not replay an incident change it has already recorded, so dropping the enqueue here would lose the alert.
import type { Writable } from 'node:stream';
import type { Env } from '../config/env.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IncidentChange } from '../pipeline/pipeline.js';
import {
  MemoryDeliveryBackend,
  QueueDeliveryBackend,
  backoffDelay,
  deliveryJobId,
  deliveryQueuePrefix,
  type DeliveryAdmin,
  type DeliveryBackend,
  type DeliveryJob,
} from '../queue/delivery.js';
import { createRedis, workerConnection } from '../state/redis/connect.js';
import { describeSink, loadSinksFromEnv, sinkAccepts, type RetryPolicy, type SinksConfig } from './config.js';
import { SinkSet } from './sinks/index.js';

const MAX_BUFFERED = 10_000;
const REENQUEUE_POLICY: RetryPolicy = { attempts: Number.MAX_SAFE_INTEGER, baseDelayMs: 500, maxDelayMs: 30_000 };
const GAUGE_EVERY_MS = 5000;

export class Emitter {
  private readonly buffered: DeliveryJob[] = [];
  private bufferTimer: NodeJS.Timeout | undefined;
  private bufferFailures = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly gaugeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly config: SinksConfig,
    private readonly backend: DeliveryBackend,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly cleanup: () => Promise<void> = async () => undefined,
  ) {
    if (config.sinks.length > 0 || backend.kind === 'queue') {
      this.gaugeTimer = setInterval(() => void this.refreshGauges(), GAUGE_EVERY_MS);
      this.gaugeTimer.unref();
      void this.refreshGauges();
    }
  }

  /** Dead letters and depth, for the CLI and the API. */
  get admin(): DeliveryAdmin {
    return this.backend;
  }

  /** The pipeline hook. Returns at once; never throws. */
  readonly onIncident = (change: IncidentChange): void => {
    if (this.closed || this.config.sinks.length === 0) return;
    const jobs: DeliveryJob[] = [];
    const now = Date.now();
    for (const sink of this.config.sinks) {
      if (!sinkAccepts(sink.filter, change.incident, change.outcome)) continue;
      jobs.push({
        id: deliveryJobId(sink.name, change.incident),
        data: { v: 1, sink: sink.name, outcome: change.outcome, enqueued_at: now, incident: change.incident },
        retry: sink.retry,
      });
    }
    if (jobs.length > 0) this.submit(jobs);
  };

  private submit(jobs: DeliveryJob[]): void {
    const p = this.backend.enqueue(jobs).catch((err: Error) => {
      this.logger.warn({ err: err.message, jobs: jobs.length }, 'could not enqueue deliveries; holding them in memory and trying again');
      this.hold(jobs);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private hold(jobs: DeliveryJob[]): void {
    for (const j of jobs) {
      if (this.buffered.length >= MAX_BUFFERED) {
        this.metrics.deliveries.inc({ sink: j.data.sink, outcome: 'dropped' });
        this.logger.error({ sink: j.data.sink, job: j.id }, 'delivery buffer full while the queue is unreachable; delivery dropped (counted)');
        continue;
      }
      this.buffered.push(j);
    }
    this.scheduleBuffer();
  }

  private scheduleBuffer(): void {
    if (this.bufferTimer || this.closed || this.buffered.length === 0) return;
    this.bufferTimer = setTimeout(() => {
      this.bufferTimer = undefined;
      const jobs = this.buffered.splice(0, this.buffered.length);
      const p = this.backend.enqueue(jobs).then(
        () => {
          this.bufferFailures = 0;
        },
        () => {
          this.bufferFailures++;
          this.buffered.unshift(...jobs);
          this.scheduleBuffer();
        },
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }, backoffDelay(REENQUEUE_POLICY, this.bufferFailures + 1));
  }

  private async refreshGauges(): Promise<void> {
    try {
      const { waiting, dead } = await this.backend.counts();
      this.metrics.queueDepth.set({ queue: 'delivery' }, waiting);
      this.metrics.deadLetters.set(dead);
    } catch {
      // Redis away: the gauges keep their last values.
    }
  }

  /** Waits until every change handed over so far is enqueued (or buffered); with the memory backend, sent once. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.backend instanceof MemoryDeliveryBackend) await this.backend.idle();
    await this.refreshGauges();
  }

  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    if (this.bufferTimer) clearTimeout(this.bufferTimer);
    if (this.buffered.length > 0) {
      this.logger.error({ deliveries: this.buffered.length }, 'shutting down with deliveries that never reached the queue; they are lost');
    }
    await this.backend.close();
    await this.cleanup();
  }
}

export interface EmitterOptions {
  env: Env;
  /** where RG_SINKS_FILE and the secrets' variables are read (default process.env) */
  rawEnv?: NodeJS.ProcessEnv;
  logger: Logger;
  metrics: Metrics;
  /** run deliveries in this process (a service worker, or always in embedded mode) */
  worker: boolean;
  /** already loaded config (tests); default: loadSinksFromEnv(rawEnv) */
  config?: SinksConfig;
  /** key prefix override (tests), as RuntimeOptions.keyPrefix */
  keyPrefix?: string;
  stdout?: Writable;
}

/** Embedded (no REDIS_URL): in-memory deliveries. Service: the BullMQ delivery queue, with a worker if asked. */
export async function createEmitter(opts: EmitterOptions): Promise<Emitter> {
  const { env, logger, metrics } = opts;
  const config = opts.config ?? (await loadSinksFromEnv(opts.rawEnv ?? process.env));
  if (config.sinks.length > 0) {
    logger.info({ file: config.file, sinks: config.sinks.map(describeSink) }, 'sinks loaded');
  }
  const stdoutOpt = opts.stdout ? { stdout: opts.stdout } : {};
  if (!env.REDIS_URL) {
    const sinks = new SinkSet(config.sinks, stdoutOpt);
    const backend = new MemoryDeliveryBackend(sinks, metrics, logger);
    return new Emitter(config, backend, metrics, logger, () => sinks.close());
  }
  const prefix = opts.keyPrefix !== undefined ? `${opts.keyPrefix}:q` : deliveryQueuePrefix(env);
  // Producer: fail fast when Redis is away (the emitter buffers); the worker's own connections wait.
  const producer = createRedis(env, 'producer');
  producer.on('error', (err) => logger.warn({ err: err.message }, 'redis (delivery producer) connection error'));
  await producer.connect();
  const runWorker = opts.worker && config.sinks.length > 0;
  const sinks = runWorker ? new SinkSet(config.sinks, stdoutOpt) : undefined;
  const backend = new QueueDeliveryBackend({
    connection: producer,
    prefix,
    metrics,
    logger,
    ...(sinks
      ? {
        worker: {
          connection: workerConnection(env),
          sinks,
          concurrency: config.delivery.concurrency,
          policies: new Map(config.sinks.map((s) => [s.name, s.retry])),
        },
      }
      : {}),
  });
  return new Emitter(config, backend, metrics, logger, async () => {
    await sinks?.close();
    await producer.quit().catch(() => producer.disconnect());
  });
}
