// Deliveries: one job per (sink, incident change), retried with exponential backoff and jitter, dead-lettered
// after the last attempt, re-driven by `replayguard deliveries retry` or the API.
//
// Service mode: BullMQ queue `delivery` (prefix `<RG_KEY_PREFIX>:q`, like ingest); the dead-letter set is the
// queue's failed set, kept (up to DEAD_LETTER_CAP) so it can be listed and re-driven. Embedded mode: the same
// policy in memory (MemoryDeliveryBackend), so `npm start` without Redis still forwards.
//
// Job schema (for producers that add jobs directly):
//   name "deliver", id "<sink>.<incident id>.<updated_at epoch ms>.<count>",
//   data { v: 1, sink, outcome: "created"|"updated", enqueued_at: epoch ms, incident: Incident }
// The id makes enqueueing idempotent: a re-run of the same change is the same job. `count` is in it because
// two updates of one incident can share a millisecond, and the second must not be dropped as a duplicate.
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { loadEnv, type Env } from '../config/env.js';
import type { Incident } from '../incidents/model.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RetryPolicy } from '../outputs/config.js';
import type { SendResult, SinkSet } from '../outputs/sinks/index.js';
import type { IncidentChange } from '../pipeline/pipeline.js';
import { createRedis } from '../state/redis/connect.js';
import { KeySpace } from '../state/redis/keys.js';

/** Hash-tagged: in a Redis Cluster all of a queue's keys must share one slot. */
export const DELIVERY_QUEUE = '{rg-delivery}';
export const BACKOFF_TYPE = 'rg-jitter';
/** Failed (dead) jobs kept; beyond this BullMQ drops the oldest. Large, because each one is a lost alert otherwise. */
export const DEAD_LETTER_CAP = 100_000;

export interface DeliveryJobData {
  v: 1;
  sink: string;
  outcome: IncidentChange['outcome'];
  enqueued_at: number;
  incident: Incident;
}

export interface DeliveryJob {
  id: string;
  data: DeliveryJobData;
  retry: RetryPolicy;
}

export interface DeadDelivery {
  id: string;
  sink: string;
  incident_id: string;
  incident_updated_at: string;
  outcome: string;
  attempts: number;
  error: string;
  failed_at?: string;
  enqueued_at?: string;
}

export interface DeadQuery {
  sink?: string;
  id?: string;
  limit?: number;
}

/** What the CLI and the API need: list and re-drive dead letters, see how much is waiting. */
export interface DeliveryAdmin {
  readonly kind: 'queue' | 'memory';
  listDead(q?: DeadQuery): Promise<DeadDelivery[]>;
  /** Re-drives matching dead letters with a fresh set of attempts; answers how many. */
  retryDead(q?: Omit<DeadQuery, 'limit'>): Promise<number>;
  counts(): Promise<{ waiting: number; dead: number }>;
}

export interface DeliveryBackend extends DeliveryAdmin {
  enqueue(jobs: readonly DeliveryJob[]): Promise<void>;
  close(): Promise<void>;
}

export function deliveryJobId(sink: string, incident: Pick<Incident, 'id' | 'updated_at' | 'count'>): string {
  const t = Date.parse(incident.updated_at);
  // BullMQ refuses `:` in custom ids, hence epoch ms rather than the ISO string.
  const stamp = Number.isNaN(t) ? String(incident.updated_at).replace(/[^A-Za-z0-9_-]/g, '_') : String(t);
  return `${sink}.${incident.id}.${stamp}.${incident.count}`;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential step is fixed, half random. The random half
 * spreads a herd of retries after an outage; the fixed half keeps a floor so a retry never comes at once. A
 * receiver's Retry-After wins when it asks for longer (capped by the policy's maximum).
 */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const delay = Math.round(step / 2 + (random() * step) / 2);
  return retryAfterMs !== undefined ? Math.max(delay, Math.min(retryAfterMs, policy.maxDelayMs)) : delay;
}

/** Thrown by the worker for a retryable failure; carries the receiver's Retry-After to the backoff strategy. */
export class DeliveryRetryError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'DeliveryRetryError';
  }
}

const hmacHex = z.string().regex(/^[a-f0-9]{32}$/, 'session must be the 32-hex-digit HMAC, never a raw id');
export const deliveryJobSchema = z.object({
  v: z.literal(1),
  sink: z.string().min(1).max(63),
  outcome: z.enum(['created', 'updated']),
  enqueued_at: z.number(),
  incident: z.looseObject({
    id: z.string().min(1).max(128),
    session: hmacHex,
    rule: z.looseObject({ id: z.string().min(1) }),
    updated_at: z.string(),
  }),
});

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------------------
// Embedded mode: the same policy, in memory.

interface MemoryJob extends DeliveryJob {
  attempts: number;
  timer?: NodeJS.Timeout;
  error?: string;
  failedAt?: number;
}

export class MemoryDeliveryBackend implements DeliveryBackend {
  readonly kind = 'memory';
  private readonly pending = new Map<string, MemoryJob>();
  private readonly dead = new Map<string, MemoryJob>();
  /** ids delivered lately: enqueueing the same change twice is a no-op, as with BullMQ's job ids */
  private readonly recent = new Map<string, true>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly sinks: SinkSet,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly limits = { maxPending: 100_000, maxDead: 10_000, remember: 10_000 },
  ) {}

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    for (const j of jobs) {
      if (this.closed || this.pending.has(j.id) || this.dead.has(j.id) || this.recent.has(j.id)) continue;
      if (this.pending.size >= this.limits.maxPending) {
        // Memory is the only store here; refusing beats growing until the process dies and loses all of it.
        this.metrics.deliveries.inc({ sink: j.data.sink, outcome: 'dropped' });
        this.logger.error({ sink: j.data.sink, job: j.id, pending: this.pending.size }, 'in-memory delivery backlog is full; delivery dropped (counted)');
        continue;
      }
      const job: MemoryJob = { ...j, attempts: 0 };
      this.pending.set(j.id, job);
      this.metrics.deliveries.inc({ sink: j.data.sink, outcome: 'enqueued' });
      this.attempt(job);
    }
  }

  private attempt(job: MemoryJob): void {
    const batcher = this.sinks.get(job.data.sink);
    if (!batcher) {
      this.settle(job, { status: 'dead', error: `sink "${job.data.sink}" is not configured` });
      return;
    }
    job.attempts++;
    const p = batcher.submit(job.data.incident).then((r) => this.settle(job, r));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private settle(job: MemoryJob, r: SendResult): void {
    if (this.closed) return;
    const sink = job.data.sink;
    if (r.status === 'delivered') {
      this.pending.delete(job.id);
      this.recent.set(job.id, true);
      if (this.recent.size > this.limits.remember) this.recent.delete(this.recent.keys().next().value!);
      this.metrics.deliveries.inc({ sink, outcome: 'delivered' });
      return;
    }
    if (r.status === 'retry' && job.attempts < job.retry.attempts) {
      this.metrics.deliveries.inc({ sink, outcome: 'retried' });
      const delay = backoffDelay(job.retry, job.attempts, r.retryAfterMs);
      this.logger.warn({ sink, job: job.id, attempt: job.attempts, delay_ms: delay, err: r.error }, 'delivery failed; retrying');
      job.timer = setTimeout(() => {
        job.timer = undefined;
        if (!this.closed) this.attempt(job);
      }, delay);
      return;
    }
    this.pending.delete(job.id);
    job.error = r.error;
    job.failedAt = Date.now();
    this.dead.set(job.id, job);
    if (this.dead.size > this.limits.maxDead) this.dead.delete(this.dead.keys().next().value!);
    this.metrics.deliveries.inc({ sink, outcome: 'dead' });
    this.metrics.deadLetters.set(this.dead.size);
    this.logger.error({ sink, job: job.id, attempts: job.attempts, err: r.error }, 'delivery dead-lettered');
  }

  async listDead(q: DeadQuery = {}): Promise<DeadDelivery[]> {
    const out: DeadDelivery[] = [];
    for (const j of this.dead.values()) {
      if (q.id !== undefined && j.id !== q.id) continue;
      if (q.sink !== undefined && j.data.sink !== q.sink) continue;
      out.push(toDead(j.id, j.data, j.attempts, j.error ?? '', j.failedAt, j.data.enqueued_at));
      if (out.length >= (q.limit ?? 100)) break;
    }
    return out;
  }

  async retryDead(q: Omit<DeadQuery, 'limit'> = {}): Promise<number> {
    const chosen = [...this.dead.values()].filter((j) => (q.id === undefined || j.id === q.id) && (q.sink === undefined || j.data.sink === q.sink));
    for (const j of chosen) {
      this.dead.delete(j.id);
      j.attempts = 0;
      delete j.error;
      this.pending.set(j.id, j);
      this.metrics.deliveries.inc({ sink: j.data.sink, outcome: 'redriven' });
      this.attempt(j);
    }
    this.metrics.deadLetters.set(this.dead.size);
    return chosen.length;
  }

  async counts(): Promise<{ waiting: number; dead: number }> {
    return { waiting: this.pending.size, dead: this.dead.size };
  }

  /** Settles everything now in flight (tests; shutdown). Retries waiting on a timer are not hurried. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.sinks.drain();
    await this.idle();
    this.closed = true;
    for (const j of this.pending.values()) if (j.timer) clearTimeout(j.timer);
    if (this.pending.size > 0 || this.dead.size > 0) {
      this.logger.warn({ pending: this.pending.size, dead: this.dead.size }, 'embedded mode: undelivered incidents are lost with this process (run with REDIS_URL for durable deliveries)');
    }
  }
}

function toDead(id: string, data: Partial<DeliveryJobData> | undefined, attempts: number, error: string, failedAt?: number, enqueuedAt?: number): DeadDelivery {
  const d: DeadDelivery = {
    id,
    sink: String(data?.sink ?? ''),
    incident_id: String(data?.incident?.id ?? ''),
    incident_updated_at: String(data?.incident?.updated_at ?? ''),
    outcome: String(data?.outcome ?? ''),
    attempts,
    error,
  };
  const f = iso(failedAt);
  if (f) d.failed_at = f;
  const e = iso(enqueuedAt);
  if (e) d.enqueued_at = e;
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Service mode: BullMQ.

export interface QueueBackendOptions {
  /** producer connection: a connected ioredis with enableOfflineQueue false (fail fast), or options */
  connection: ConnectionOptions;
  prefix: string;
  metrics?: Metrics;
  logger?: Logger;
  /** run a delivery worker in this process */
  worker?: { connection: ConnectionOptions; sinks: SinkSet; concurrency: number; policies: ReadonlyMap<string, RetryPolicy> };
}

const DEFAULT_POLICY: RetryPolicy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 300_000 };

export class QueueDeliveryBackend implements DeliveryBackend {
  readonly kind = 'queue';
  readonly queue: Queue<DeliveryJobData>;
  readonly worker?: Worker<DeliveryJobData>;

  constructor(private readonly opts: QueueBackendOptions) {
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: DEAD_LETTER_CAP } },
    });
    this.queue.on('error', (err) => opts.logger?.warn({ err: err.message }, 'delivery queue error'));
    if (opts.worker) this.worker = this.startWorker(opts.worker);
  }

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => ({
      name: 'deliver',
      data: j.data,
      opts: { jobId: j.id, attempts: j.retry.attempts, backoff: { type: BACKOFF_TYPE, delay: j.retry.baseDelayMs } },
    })));
    for (const j of jobs) this.opts.metrics?.deliveries.inc({ sink: j.data.sink, outcome: 'enqueued' });
  }

  private startWorker(w: NonNullable<QueueBackendOptions['worker']>): Worker<DeliveryJobData> {
    const { metrics, logger } = this.opts;
    const policyOf = (sink: unknown) => w.policies.get(String(sink)) ?? DEFAULT_POLICY;
    const worker = new Worker<DeliveryJobData>(
      DELIVERY_QUEUE,
      async (job: Job<DeliveryJobData>) => {
        const parsed = deliveryJobSchema.safeParse(job.data);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          metrics?.deliveries.inc({ sink: 'invalid', outcome: 'dead' });
          throw new UnrecoverableError(`delivery job does not match the job schema: ${issue?.path.join('.')}: ${issue?.message}`);
        }
        const { sink } = parsed.data;
        const batcher = w.sinks.get(sink);
        if (!batcher) {
          // A sink removed from (or misspelt in) this process's sinks file: keep the job for a re-drive.
          metrics?.deliveries.inc({ sink, outcome: 'dead' });
          throw new UnrecoverableError(`sink "${sink}" is not configured in this process`);
        }
        const result = await batcher.submit(parsed.data.incident as unknown as Incident);
        if (result.status === 'delivered') {
          metrics?.deliveries.inc({ sink, outcome: 'delivered' });
          return result.note !== undefined ? { delivered: true, note: result.note } : { delivered: true };
        }
        // attemptsMade counts finished attempts, so this one is the last when it reaches the configured total.
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (result.status === 'retry' && !last) {
          metrics?.deliveries.inc({ sink, outcome: 'retried' });
          throw new DeliveryRetryError(result.error, result.retryAfterMs);
        }
        metrics?.deliveries.inc({ sink, outcome: 'dead' });
        throw new UnrecoverableError(result.error);
      },
      {
        connection: w.connection,
        prefix: this.opts.prefix,
        concurrency: w.concurrency,
        autorun: true,
        settings: {
          backoffStrategy: (attemptsMade, _type, err, job) =>
            backoffDelay(policyOf((job?.data as DeliveryJobData | undefined)?.sink), attemptsMade, (err as DeliveryRetryError | undefined)?.retryAfterMs),
        },
      },
    );
    worker.on('failed', (job, err) => {
      if (err.name === 'UnrecoverableError' || (job && job.attemptsMade >= (job.opts.attempts ?? 1))) {
        logger?.error({ job: job?.id, sink: job?.data?.sink, attempts: job?.attemptsMade, err: err.message }, 'delivery dead-lettered; re-drive with `replayguard deliveries retry`');
      } else {
        logger?.warn({ job: job?.id, sink: job?.data?.sink, attempt: job?.attemptsMade, err: err.message }, 'delivery failed; BullMQ retries it with backoff');
      }
    });
    worker.on('error', (err) => logger?.error({ err: err.message }, 'delivery worker error'));
    return worker;
  }

  private async deadJobs(q: DeadQuery, limit: number): Promise<Job<DeliveryJobData>[]> {
    if (q.id !== undefined) {
      const job = await this.queue.getJob(q.id);
      if (!job || (await job.getState()) !== 'failed') return [];
      return q.sink === undefined || job.data?.sink === q.sink ? [job] : [];
    }
    const out: Job<DeliveryJobData>[] = [];
    const page = 500;
    for (let start = 0; out.length < limit; start += page) {
      const jobs = await this.queue.getFailed(start, start + page - 1);
      for (const j of jobs) {
        if (j && (q.sink === undefined || j.data?.sink === q.sink)) out.push(j);
        if (out.length >= limit) break;
      }
      if (jobs.length < page) break;
    }
    return out;
  }

  async listDead(q: DeadQuery = {}): Promise<DeadDelivery[]> {
    const jobs = await this.deadJobs(q, q.limit ?? 100);
    return jobs.map((j) => toDead(String(j.id), j.data, j.attemptsMade, j.failedReason ?? '', j.finishedOn, j.timestamp));
  }

  async retryDead(q: Omit<DeadQuery, 'limit'> = {}): Promise<number> {
    // Collected first: re-driving moves jobs out of the failed set we would be paging through.
    const jobs = await this.deadJobs(q, Number.MAX_SAFE_INTEGER);
    let n = 0;
    for (const j of jobs) {
      try {
        await j.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        n++;
        this.opts.metrics?.deliveries.inc({ sink: String(j.data?.sink ?? 'unknown'), outcome: 'redriven' });
      } catch (err) {
        // Someone else re-drove or removed it meanwhile.
        this.opts.logger?.warn({ job: j.id, err: (err as Error).message }, 'dead letter could not be re-driven');
      }
    }
    return n;
  }

  async counts(): Promise<{ waiting: number; dead: number }> {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'paused', 'failed');
    return { waiting: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0), dead: c.failed ?? 0 };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.opts.worker?.sinks.drain();
    await this.queue.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// `replayguard deliveries list|retry [--sink X] [--id J] [--limit N]`

export interface DeliveriesCommand {
  sub: 'list' | 'retry';
  sink?: string;
  id?: string;
  limit?: number;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

export function deliveryQueuePrefix(env: Env): string {
  return new KeySpace(env.RG_KEY_PREFIX).queuePrefix();
}

export async function runDeliveriesCommand(cmd: DeliveriesCommand): Promise<number> {
  const env = loadEnv(cmd.env ?? process.env);
  const stdout = cmd.stdout ?? process.stdout;
  const stderr = cmd.stderr ?? process.stderr;
  if (cmd.limit !== undefined && (!Number.isInteger(cmd.limit) || cmd.limit < 1)) {
    stderr.write('replayguard deliveries: --limit must be a positive integer\n');
    return 2;
  }
  if (!env.REDIS_URL) {
    stderr.write('replayguard deliveries: needs REDIS_URL. Embedded mode keeps its dead letters in its own process: use GET /v1/deliveries/dead and POST /v1/deliveries/:id/retry on its API.\n');
    return 2;
  }
  const redis = createRedis(env, 'producer');
  redis.on('error', () => undefined);
  await redis.connect();
  const backend = new QueueDeliveryBackend({ connection: redis, prefix: deliveryQueuePrefix(env) });
  try {
    const q: DeadQuery = {};
    if (cmd.sink !== undefined) q.sink = cmd.sink;
    if (cmd.id !== undefined) q.id = cmd.id;
    if (cmd.sub === 'list') {
      if (cmd.limit !== undefined) q.limit = cmd.limit;
      const dead = await backend.listDead(q);
      for (const d of dead) stdout.write(JSON.stringify(d) + '\n');
      const { dead: total } = await backend.counts();
      stderr.write(`replayguard deliveries: ${dead.length} dead letters shown, ${total} in the dead-letter set\n`);
      return 0;
    }
    const n = await backend.retryDead(q);
    stderr.write(`replayguard deliveries: ${n} dead letters re-driven\n`);
    if (n === 0 && cmd.id !== undefined) return 1;
    return 0;
  } finally {
    await backend.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}
