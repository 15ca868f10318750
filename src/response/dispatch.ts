// Delivers revocations to their targets: Standard Webhooks (signed per attempt, idempotent by webhook-id)
// and CAEP session-revoked SETs pushed per RFC 8935. Retries use the delivery queue's backoff with jitter;
// 410 Gone disables a webhook endpoint; answers that can never succeed end the job at once.
// Service mode: BullMQ queue `revocation`; embedded: the same policy with in-process timers.
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { HttpTransport, retryAfterMs } from '../outputs/sinks/http.js';
import { backoffDelay, DeliveryRetryError } from '../queue/delivery.js';
import type { Target } from './config.js';
import type { RevocationStore } from './store.js';
import { signedHeaders } from './webhook-signature.js';

/** Hash-tagged: in a Redis Cluster all of a queue's keys must share one slot. */
export const REVOCATION_QUEUE = '{rg-revocation}';

export interface RevocationJob {
  v: 1;
  revocation_id: string;
  target: string;
  /** webhook: the JSON body; caep: the signed SET */
  body: string;
}

const jobSchema = z.object({ v: z.literal(1), revocation_id: z.string().regex(/^rev_[a-f0-9]{24}$/), target: z.string().min(1), body: z.string().min(1).max(64 * 1024) });

export type SendOutcome = { status: 'delivered' } | { status: 'retry'; error: string; retryAfterMs?: number } | { status: 'dead'; error: string } | { status: 'disabled'; error: string };

export class TargetSender {
  readonly #transports = new Map<string, HttpTransport>();

  constructor(private readonly targets: ReadonlyMap<string, Target>) {}

  async send(job: RevocationJob, now = Date.now()): Promise<SendOutcome> {
    const t = this.targets.get(job.target);
    if (!t) return { status: 'dead', error: `target "${job.target}" is not configured in this process` };
    let transport = this.#transports.get(t.name);
    if (!transport) {
      transport = new HttpTransport(t.url, undefined, t.timeoutMs);
      this.#transports.set(t.name, transport);
    }
    const headers: Record<string, string> =
      t.kind === 'webhook'
        ? { 'content-type': 'application/json', ...signedHeaders(t.keys, `msg_${job.revocation_id}_${t.name}`, Math.floor(now / 1000), job.body) }
        : { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(t.authorization ? { authorization: `Bearer ${t.authorization}` } : {}) };
    let res;
    try {
      res = await transport.request('POST', headers, job.body);
    } catch (err) {
      return { status: 'retry', error: (err as Error).message };
    }
    if (t.kind === 'caep') {
      // RFC 8935: 202 is success; a 400 carries {"err", "description"} and will not get better by retrying.
      if (res.status === 202 || res.status === 200 || res.status === 204) return { status: 'delivered' };
      if (res.status === 400) {
        let detail = res.body.slice(0, 300);
        try {
          const e = JSON.parse(res.body) as { err?: string; description?: string };
          if (e.err) detail = `${e.err}${e.description ? `: ${e.description}` : ''}`;
        } catch {
          // not JSON: keep the text
        }
        return { status: 'dead', error: `receiver refused the SET (${detail})` };
      }
    } else {
      if (res.status >= 200 && res.status < 300) return { status: 'delivered' };
      if (res.status === 410) return { status: 'disabled', error: 'endpoint answered 410 Gone: disabled' };
    }
    if (res.status === 429 || res.status >= 500 || (res.status >= 300 && res.status < 400) || res.status === 408) {
      const ra = retryAfterMs(res.headers, now);
      return ra === undefined ? { status: 'retry', error: `HTTP ${res.status}` } : { status: 'retry', error: `HTTP ${res.status}`, retryAfterMs: ra };
    }
    return { status: 'dead', error: `HTTP ${res.status}: ${res.body.slice(0, 200)}` };
  }

  close(): void {
    for (const t of this.#transports.values()) t.close();
  }
}

export interface Dispatcher {
  dispatch(jobs: readonly RevocationJob[]): Promise<void>;
  close(): Promise<void>;
}

interface Ctx {
  targets: ReadonlyMap<string, Target>;
  store: RevocationStore;
  metrics: Metrics;
  logger: Logger;
}

async function record(ctx: Ctx, job: RevocationJob, outcome: SendOutcome, attempts: number, final: boolean): Promise<void> {
  const at = new Date().toISOString();
  if (outcome.status === 'delivered') {
    await ctx.store.setTarget(job.revocation_id, job.target, { status: 'delivered', attempts, at });
  } else if (outcome.status === 'disabled') {
    await ctx.store.disable(job.target);
    await ctx.store.setTarget(job.revocation_id, job.target, { status: 'disabled', attempts, error: outcome.error, at });
    ctx.logger.error({ target: job.target }, 'revocation endpoint answered 410 Gone; it is disabled until reconfigured');
  } else if (final || outcome.status === 'dead') {
    await ctx.store.setTarget(job.revocation_id, job.target, { status: 'failed', attempts, error: outcome.error, at });
  } else {
    await ctx.store.setTarget(job.revocation_id, job.target, { status: 'queued', attempts, error: outcome.error, at });
  }
  const label = outcome.status === 'retry' && final ? 'dead' : outcome.status;
  ctx.metrics.revocationDeliveries.inc({ target: job.target, outcome: label });
}

export class MemoryDispatcher implements Dispatcher {
  readonly #sender: TargetSender;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(private readonly ctx: Ctx) {
    this.#sender = new TargetSender(ctx.targets);
  }

  async dispatch(jobs: readonly RevocationJob[]): Promise<void> {
    for (const j of jobs) this.#attempt(j, 1);
  }

  #attempt(job: RevocationJob, attempt: number): void {
    const p = (async () => {
      const t = this.ctx.targets.get(job.target);
      const outcome = await this.#sender.send(job);
      const final = !t || attempt >= t.retry.attempts;
      await record(this.ctx, job, outcome, attempt, final);
      if (outcome.status === 'retry' && !final && t) {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#attempt(job, attempt + 1);
        }, backoffDelay(t.retry, attempt, outcome.retryAfterMs));
        this.#timers.add(timer);
      }
    })().catch((err: Error) => this.ctx.logger.error({ err: err.message, revocation: job.revocation_id }, 'revocation delivery failed unexpectedly'));
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  /** Settles attempts in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  async close(): Promise<void> {
    await this.idle();
    for (const t of this.#timers) clearTimeout(t);
    this.#sender.close();
  }
}

export class QueueDispatcher implements Dispatcher {
  readonly queue: Queue<RevocationJob>;
  readonly worker?: Worker<RevocationJob>;
  readonly #sender: TargetSender;

  constructor(private readonly ctx: Ctx, connection: ConnectionOptions, prefix: string, worker?: { connection: ConnectionOptions; concurrency: number }) {
    this.#sender = new TargetSender(ctx.targets);
    this.queue = new Queue<RevocationJob>(REVOCATION_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 100_000 } } });
    this.queue.on('error', (err) => ctx.logger.warn({ err: err.message }, 'revocation queue error'));
    if (worker) {
      const policyOf = (target: string | undefined) => ctx.targets.get(target ?? '')?.retry ?? { attempts: 10, baseDelayMs: 5000, maxDelayMs: 3_600_000 };
      this.worker = new Worker<RevocationJob>(
        REVOCATION_QUEUE,
        async (job: Job<RevocationJob>) => {
          const parsed = jobSchema.safeParse(job.data);
          if (!parsed.success) throw new UnrecoverableError(`revocation job does not match the job schema: ${parsed.error.issues[0]?.message}`);
          if (await ctx.store.isDisabled(parsed.data.target)) {
            await record(ctx, parsed.data, { status: 'disabled', error: 'endpoint disabled (410 Gone earlier)' }, job.attemptsMade + 1, true);
            return { disabled: true };
          }
          const outcome = await this.#sender.send(parsed.data);
          const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          await record(ctx, parsed.data, outcome, job.attemptsMade + 1, final);
          if (outcome.status === 'delivered' || outcome.status === 'disabled') return { status: outcome.status };
          if (outcome.status === 'retry' && !final) throw new DeliveryRetryError(outcome.error, outcome.retryAfterMs);
          throw new UnrecoverableError(outcome.error);
        },
        {
          connection: worker.connection, prefix, concurrency: worker.concurrency,
          settings: { backoffStrategy: (attemptsMade, _type, err, job) => backoffDelay(policyOf((job?.data as RevocationJob | undefined)?.target), attemptsMade, (err as DeliveryRetryError | undefined)?.retryAfterMs) },
        },
      );
      this.worker.on('error', (err) => ctx.logger.error({ err: err.message }, 'revocation worker error'));
    }
  }

  async dispatch(jobs: readonly RevocationJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((j) => {
      const t = this.ctx.targets.get(j.target);
      // One job per (revocation, target): a repeated dispatch is the same job, never a second call.
      return { name: 'revoke', data: j, opts: { jobId: `${j.revocation_id}.${j.target}`, attempts: t?.retry.attempts ?? 10, backoff: { type: 'rg-jitter', delay: t?.retry.baseDelayMs ?? 5000 } } };
    }));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    this.#sender.close();
  }
}
