// Sink construction and batching. A Batcher turns many concurrent "deliver this record" calls into few sends:
// BullMQ runs one job per (sink, incident change), and a HEC or _bulk request per incident would be wasteful,
// so each job hands its record to the sink's batcher and waits for that record's own result.
import type { Writable } from 'node:stream';
import type { Incident } from '../../incidents/model.js';
import type { SinkConfig } from '../config.js';
import { FileSink } from './file.js';
import { BulkSink, HecSink, JsonSink } from './http.js';
import { renderRecord } from './render.js';
import { StdoutSink } from './stdout.js';
import { SyslogSink } from './syslog.js';
import { errorText, type SendResult, type Sink } from './types.js';

export type { SendResult, Sink } from './types.js';
export { renderRecord } from './render.js';

export function createSink(config: SinkConfig, opts: { stdout?: Writable } = {}): Sink {
  switch (config.type) {
    case 'file': return new FileSink(config);
    case 'stdout': return new StdoutSink(config, opts.stdout);
    case 'http_hec': return new HecSink(config);
    case 'http_bulk': return new BulkSink(config);
    case 'http_json': return new JsonSink(config);
    case 'syslog': return new SyslogSink(config);
  }
}

interface Pending {
  record: string;
  bytes: number;
  resolve: (r: SendResult) => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(readonly sink: Sink) {}

  get config(): SinkConfig {
    return this.sink.config;
  }

  /** Renders and queues one incident; resolves with what the receiver said about it. Never rejects. */
  submit(incident: Incident): Promise<SendResult> {
    let record: string;
    try {
      record = renderRecord(this.sink.config, incident);
    } catch (err) {
      // Formatters do not throw on incident values (their contract); if one ever does, retrying cannot help.
      return Promise.resolve({ status: 'dead', error: `render: ${errorText(err)}` });
    }
    return new Promise<SendResult>((resolve) => {
      const bytes = Buffer.byteLength(record);
      this.queue.push({ record, bytes, resolve });
      this.queuedBytes += bytes;
      const { maxEvents, maxBytes, lingerMs } = this.sink.config.batch;
      if (this.queue.length >= maxEvents || this.queuedBytes >= maxBytes) this.flush();
      else this.schedule(lingerMs);
    });
  }

  private schedule(lingerMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.timer = undefined;
      this.flush();
    };
    if (lingerMs <= 0) setImmediate(run);
    else this.timer = setTimeout(run, lingerMs);
  }

  /** Sends everything queued now, in batches within the sink's limits. */
  flush(): void {
    const { maxEvents, maxBytes } = this.sink.config.batch;
    while (this.queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.queue.length > 0 && batch.length < maxEvents) {
        const next = this.queue[0]!;
        if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
        batch.push(this.queue.shift()!);
        bytes += next.bytes;
      }
      this.queuedBytes -= bytes;
      const p = this.sendBatch(batch);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    let results: SendResult[];
    try {
      results = await this.sink.send(batch.map((b) => b.record));
    } catch (err) {
      results = batch.map(() => ({ status: 'retry', error: errorText(err) }));
    }
    batch.forEach((b, i) => b.resolve(results[i] ?? { status: 'retry', error: 'sink gave no result for this record' }));
  }

  /** Flushes what is queued and waits for every send in flight. */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = false;
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.sink.close();
  }
}

/** The configured sinks of this process, by name, each behind its batcher. */
export class SinkSet {
  private readonly byName = new Map<string, Batcher>();

  constructor(configs: readonly SinkConfig[], opts: { stdout?: Writable } = {}) {
    for (const c of configs) this.byName.set(c.name, new Batcher(createSink(c, opts)));
  }

  get(name: string): Batcher | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  async drain(): Promise<void> {
    await Promise.all([...this.byName.values()].map((b) => b.drain()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((b) => b.close()));
  }
}
