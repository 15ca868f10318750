// Completion of ingest jobs, read from Redis: every BullMQ queue keeps an events stream (`<prefix>:<queue>:events`)
// in which each completed job leaves its return value; the ingest worker returns {processed, detections}. Tailing
// those streams counts processed events per millisecond of completion time, whichever worker process did the work
// (each worker has its own metrics registry and no HTTP port, so /metrics cannot give a total).
import { Redis } from 'ioredis';

const INGEST_STREAM = /^(.*):(ingest|\{rg-\d+\}):events$/;

export class CompletionTracker {
  constructor(url, prefix = 'rg:q') {
    this.redis = new Redis(url, { maxRetriesPerRequest: null });
    this.prefix = prefix;
    this.streams = new Map(); // key -> last id
    this.processed = 0;
    this.detections = 0;
    this.jobs = 0;
    this.failed = 0;
    /** [completion ms, processed] per job */
    this.series = [];
  }

  /** Finds the ingest queues' event streams (call after every partition has received a job). */
  async discover() {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*:events`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) if (INGEST_STREAM.test(k) && !this.streams.has(k)) this.streams.set(k, '0');
    } while (cursor !== '0');
    return [...this.streams.keys()];
  }

  async poll() {
    if (this.streams.size === 0) return;
    for (;;) {
      const keys = [...this.streams.keys()];
      const res = await this.redis.xread('COUNT', 10_000, 'STREAMS', ...keys, ...keys.map((k) => this.streams.get(k)));
      if (!res) return;
      let n = 0;
      for (const [key, entries] of res) {
        for (const [id, fields] of entries) {
          this.streams.set(key, id);
          n++;
          let event;
          let rv;
          for (let i = 0; i < fields.length; i += 2) {
            if (fields[i] === 'event') event = fields[i + 1];
            else if (fields[i] === 'returnvalue') rv = fields[i + 1];
          }
          if (event === 'failed') this.failed++;
          if (event !== 'completed' || rv === undefined) continue;
          let value;
          try {
            value = JSON.parse(rv);
          } catch {
            continue;
          }
          if (typeof value?.processed !== 'number') continue;
          this.jobs++;
          this.processed += value.processed;
          this.detections += value.detections ?? 0;
          this.series.push([Number(id.slice(0, id.indexOf('-'))), value.processed]);
        }
      }
      if (n < 10_000) return;
    }
  }

  /** processed events whose job completed in [from, to) (epoch ms) */
  processedBetween(from, to) {
    let n = 0;
    for (const [t, p] of this.series) if (t >= from && t < to) n += p;
    return n;
  }

  start(everyMs = 100) {
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.poll().catch(() => undefined).finally(() => {
        busy = false;
      });
    }, everyMs);
    return this;
  }

  async stop() {
    clearInterval(this.timer);
    await this.poll();
    this.redis.disconnect();
  }
}
