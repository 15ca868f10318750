// The ingest queue: validated, HMAC'd events travel in batches as BullMQ jobs from the API to workers.
// Job schema (for producers that add jobs directly; see docs/architecture.md):
//   name "events", data { v: 1, accepted_at: epoch ms, events: AuthEvent[] } (session ids already HMACs)
import { createHash } from 'node:crypto';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { EVENT_TYPES, SIGNALS, type AuthEvent } from '../events/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';

export const INGEST_QUEUE = 'ingest';

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
  readonly queue: Queue<IngestJobData>;

  constructor(connection: ConnectionOptions, prefix: string, private readonly batchSize: number) {
    this.queue = new Queue<IngestJobData>(INGEST_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10_000 },
      },
    });
  }

  async submit(events: readonly AuthEvent[]): Promise<void> {
    const now = Date.now();
    const jobs = [];
    for (let i = 0; i < events.length; i += this.batchSize) {
      const batch = events.slice(i, i + this.batchSize);
      // Same batch sent twice → same job id → BullMQ keeps one job (events are idempotent anyway).
      const jobId = createHash('sha256').update(batch.map((e) => `${e.tenant}\u0000${e.session}\u0000${e.id}`).join('\n')).digest('hex').slice(0, 40);
      jobs.push({ name: 'events', data: { v: 1 as const, accepted_at: now, events: batch }, opts: { jobId } });
    }
    await this.queue.addBulk(jobs);
  }

  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'paused');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export function createIngestWorker(opts: {
  connection: ConnectionOptions;
  prefix: string;
  pipeline: Pipeline;
  metrics: Metrics;
  logger: Logger;
  concurrency: number;
}): Worker<IngestJobData> {
  const { pipeline, metrics, logger } = opts;
  const worker = new Worker<IngestJobData>(
    INGEST_QUEUE,
    async (job: Job<IngestJobData>) => {
      const parsed = ingestJobSchema.safeParse(job.data);
      if (!parsed.success) {
        metrics.eventsRejected.inc({ reason: 'invalid_job' }, Array.isArray((job.data as { events?: unknown }).events) ? (job.data as { events: unknown[] }).events.length : 1);
        logger.error({ job: job.id, issue: parsed.error.issues[0]?.message }, 'ingest job does not match the job schema; dropped (counted)');
        return { rejected: true };
      }
      const result = await pipeline.process(parsed.data.events as AuthEvent[]);
      metrics.processingLag.observe((Date.now() - parsed.data.accepted_at) / 1000);
      return { processed: result.processed, detections: result.detections };
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, autorun: true },
  );
  worker.on('failed', (job, err) => {
    metrics.jobsFailed.inc({ queue: INGEST_QUEUE });
    logger.warn({ job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'ingest job failed; BullMQ retries it with backoff');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'ingest worker error'));
  return worker;
}
