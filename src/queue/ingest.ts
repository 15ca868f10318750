// The ingest queue: validated, HMAC'd events travel in batches as BullMQ jobs from the API to workers.
// Job schema (for producers that add jobs directly; see docs/architecture.md):
//   name "events", data { v: 1, accepted_at: epoch ms, events: AuthEvent[] } (session ids already HMACs)
import { createHash } from 'node:crypto';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { EVENT_TYPES, SIGNALS, type AuthEvent } from '../events/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { isCleanIngestJob } from '../pipeline/job-check.js';
import type { Pipeline } from '../pipeline/pipeline.js';

export const INGEST_QUEUE = 'ingest';

/**
 * Ingest is partitioned by session hash into K queues named `{rg-0}` … `{rg-K-1}`. The braces are a Redis
 * Cluster hash tag: each queue's keys live in one slot, the queues spread over the cluster's nodes, and all
 * events of one session go through one partition.
 */
export function partitionQueueName(partition: number): string {
  return `{rg-${partition}}`;
}

export function partitionOf(session: string, partitions: number): number {
  return parseInt(session.slice(0, 8), 16) % partitions;
}

/** "0-3,6" → [0,1,2,3,6]; empty means every partition. */
export function parsePartitionList(text: string | undefined, partitions: number): number[] {
  if (!text) return Array.from({ length: partitions }, (_, i) => i);
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`RG_WORKER_PARTITIONS: "${part}" is not a partition number or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let p = from; p <= to; p++) {
      if (p >= partitions) throw new Error(`RG_WORKER_PARTITIONS: partition ${p} does not exist (RG_INGEST_PARTITIONS is ${partitions})`);
      out.add(p);
    }
  }
  return [...out].sort((a, b) => a - b);
}

export interface IngestJobData {
  v: 1;
  accepted_at: number;
  events: AuthEvent[];
}

// Jobs may come from other producers: the worker validates them too, and never trusts a raw session id
// to be absent: `session` must look like our HMAC.
const hmacHex = z.string().regex(/^[a-f0-9]{32}$/, 'session must be the 32-hex-digit HMAC, never a raw id');
const authEventSchema = z.object({
  id: z.string().min(1).max(256),
  time: z.number().int(),
  type: z.enum(EVENT_TYPES),
  session: hmacHex,
  new_session: hmacHex.optional(),
  user: z.string().max(512).optional(),
  tenant: z.string().min(1).max(128),
  ip: z.string().min(2).max(64),
  user_agent: z.string().max(2048).optional(),
  device_id: z.string().max(256).optional(),
  app: z.string().max(256).optional(),
  asn: z.number().int().min(0).optional(),
  country: z.string().length(2).optional(),
  is_proxy: z.boolean().optional(),
  signals: z.array(z.enum(SIGNALS)).max(8).optional(),
});
export const ingestJobSchema = z.object({ v: z.literal(1), accepted_at: z.number(), events: z.array(authEventSchema).max(10_000) });

/** Ingestion seen from the API: embedded mode processes at once, service mode enqueues. */
export interface Ingestor {
  submit(events: readonly AuthEvent[]): Promise<void>;
  /** jobs waiting; undefined where there is no queue */
  depth(): Promise<number | undefined>;
}

export class DirectIngestor implements Ingestor {
  constructor(private readonly pipeline: Pipeline, private readonly batchSize: number) {}
  async submit(events: readonly AuthEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += this.batchSize) await this.pipeline.process(events.slice(i, i + this.batchSize));
  }
  async depth(): Promise<undefined> {
    return undefined;
  }
}

export class QueueIngestor implements Ingestor {
  readonly queues: Queue<IngestJobData>[];

  constructor(connection: ConnectionOptions, prefix: string, private readonly batchSize: number, partitions = 1) {
    this.queues = Array.from({ length: partitions }, (_, p) => new Queue<IngestJobData>(partitionQueueName(p), {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10_000 },
      },
    }));
  }

  async submit(events: readonly AuthEvent[]): Promise<void> {
    const now = Date.now();
    const byPartition = new Map<number, AuthEvent[]>();
    for (const e of events) {
      const p = partitionOf(e.session, this.queues.length);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(e);
    }
    await Promise.all([...byPartition].map(([p, list]) => {
      const jobs = [];
      for (let i = 0; i < list.length; i += this.batchSize) {
        const batch = list.slice(i, i + this.batchSize);
        // Same batch sent twice → same job id → BullMQ keeps one job (events are idempotent anyway).
        const jobId = createHash('sha256').update(batch.map((e) => `${e.tenant}\u0000${e.session}\u0000${e.id}`).join('\n')).digest('hex').slice(0, 40);
        jobs.push({ name: 'events', data: { v: 1 as const, accepted_at: now, events: batch }, opts: { jobId } });
      }
      return this.queues[p]!.addBulk(jobs);
    }));
  }

  async depth(): Promise<number> {
    const counts = await Promise.all(this.queues.map((q) => q.getJobCounts('waiting', 'delayed', 'prioritized', 'paused')));
    return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}

export interface IngestWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  pipeline: Pipeline;
  metrics: Metrics;
  logger: Logger;
  concurrency: number;
  /** the partitions this process consumes */
  partitions?: number[];
  /** how soon a job held by a dead worker (SIGKILL, lost host) is handed to another one */
  stalledIntervalMs?: number;
}

/** One BullMQ worker per partition this process takes. */
export function createIngestWorkers(opts: IngestWorkerOptions): Worker<IngestJobData>[] {
  return (opts.partitions ?? [0]).map((p) => createIngestWorker(opts, partitionQueueName(p)));
}

export function createIngestWorker(opts: IngestWorkerOptions, queueName = partitionQueueName(0)): Worker<IngestJobData> {
  const { pipeline, metrics, logger } = opts;
  const worker = new Worker<IngestJobData>(
    queueName,
    async (job: Job<IngestJobData>) => {
      // Jobs from our API are clean and used as they are; anything else goes through the schema (strips or rejects).
      const parsed = isCleanIngestJob(job.data) ? { success: true as const, data: job.data } : ingestJobSchema.safeParse(job.data);
      if (!parsed.success) {
        metrics.eventsRejected.inc({ reason: 'invalid_job' }, Array.isArray((job.data as { events?: unknown }).events) ? (job.data as { events: unknown[] }).events.length : 1);
        logger.error({ job: job.id, issue: parsed.error.issues[0]?.message }, 'ingest job does not match the job schema; dropped (counted)');
        return { rejected: true };
      }
      const result = await pipeline.process(parsed.data.events as AuthEvent[]);
      metrics.processingLag.observe((Date.now() - parsed.data.accepted_at) / 1000);
      return { processed: result.processed, detections: result.detections };
    },
    {
      connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, autorun: true,
      ...(opts.stalledIntervalMs !== undefined ? { stalledInterval: opts.stalledIntervalMs, lockDuration: Math.max(opts.stalledIntervalMs, 1000) } : {}),
    },
  );
  worker.on('failed', (job, err) => {
    metrics.jobsFailed.inc({ queue: INGEST_QUEUE });
    logger.warn({ job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'ingest job failed; BullMQ retries it with backoff');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'ingest worker error'));
  return worker;
}
