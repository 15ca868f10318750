// `replayguard scan [--format F] FILE... | -`: forensic replay of logs through the full pipeline. Each file is
// decoded as a stream (JSON array, NDJSON, one JSON document, text lines, or gzip of any: src/ingest/decode.ts),
// each record converted by its format's adapter and normalized, and events processed in batches as they are read, so
// memory does not grow with the file. Incidents go to stdout, one JSON object per line; the summary goes to stderr,
// with a progress line while it runs when stderr is a terminal.
//
// With the memory store, detection state is bounded too: sessions and users expire by event time and are capped
// (RG_MEMORY_MAX_SESSIONS / RG_MEMORY_MAX_USERS, evictions counted in the summary), and an incident is written as soon
// as it closes (its rule has not hit its session for RG_SESSION_TTL_SECONDS plus the rule's cooldown, by event time),
// then forgotten; the ones still open are written at the end. Output order: by the event time each incident closes
// at (open ones: as if they closed at their last hit plus that horizon), then by creation. --hold-incidents writes
// them all at the end instead, in the same order. With --store redis, incidents are written at the end in the order
// they were first created or updated.
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { loadEnv } from '../config/env.js';
import type { AnyAdapterOptions } from '../events/adapters/index.js';
import { SESSION_HASH_CACHE } from '../events/normalize.js';
import type { AuthEvent } from '../events/schema.js';
import type { Incident } from '../incidents/model.js';
import { RecordConverter } from '../ingest/convert.js';
import { decodeStream, type DecodeLimits, type InputFormat } from '../ingest/decode.js';
import { MemoryIncidentStore } from '../incidents/memory-store.js';
import { createLogger } from '../observability/logger.js';
import { createRuntime, type StoreKind } from '../runtime.js';
import { stdoutRenderer } from '../outputs/sinks/stdout.js';

export interface ScanOptions {
  files: string[];
  store: StoreKind;
  /** input format, or `auto` to recognise each record; default `canonical` */
  format?: InputFormat;
  /** adapter options: session cookie/header for access logs, ECS session field, default tenant... */
  adapterOptions?: AnyAdapterOptions;
  rulesDir?: string;
  failOnIncident: boolean;
  batchSize?: number;
  stdin?: Readable;
  stdout?: Writable;
  /** write incidents in this output format (cef, leef, leef2, ecs, ocsf, hec, syslog, bulk, jsonl); default: the incident JSON */
  output?: string;
  stderr?: Writable;
  env?: NodeJS.ProcessEnv;
  keyPrefix?: string;
  /** progress line on stderr; default: only when stderr is a terminal */
  progress?: boolean;
  decodeLimits?: Partial<DecodeLimits>;
  /** memory store: write each incident when it closes (default) rather than all at the end; same output either way */
  releaseIncidents?: boolean;
  /** also return every incident written (default true; the CLI says false, so a long scan does not hold them) */
  keepIncidents?: boolean;
}

export interface ScanSummary {
  /** records read: every line, array element or document record, readable or not */
  events_read: number;
  events_accepted: number;
  /** unreadable records (bad JSON, too large, corrupt gzip) and events that failed the canonical schema */
  rejected: number;
  rejected_by_reason: Record<string, number>;
  /** records their adapter skipped on purpose (irrelevant type, no session...): see docs/sources.md */
  skipped: number;
  skipped_by_reason: Record<string, number>;
  accepted_by_type: Record<string, number>;
  accepted_by_format: Record<string, number>;
  incidents: number;
  incidents_by_rule: Record<string, number>;
  /** of those, written before the input ended because they had closed (memory store) */
  incidents_released: number;
  /** live sessions and users dropped by RG_MEMORY_MAX_SESSIONS / RG_MEMORY_MAX_USERS: their later events were judged without their history */
  sessions_evicted: number;
  users_evicted: number;
}

const MAX_REJECTION_LINES = 20;
const PROGRESS_EVERY_MS = 1000;

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Waits for a full stream to drain, so incidents written during the scan are not buffered without bound. */
async function write(stream: Writable, text: string): Promise<void> {
  if (stream.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export async function runScan(opts: ScanOptions): Promise<{ exitCode: number; summary: ScanSummary; incidents: Incident[] }> {
  const stdout = opts.stdout ?? process.stdout;
  // --output: checked before any work, so a typo fails at once rather than after a long replay.
  const render = stdoutRenderer(opts.output);
  const stderr = opts.stderr ?? process.stderr;
  const env = loadEnv(opts.env ?? process.env);
  const format = opts.format ?? 'canonical';
  const logger = createLogger(env.RG_LOG_LEVEL === 'info' ? 'warn' : env.RG_LOG_LEVEL);
  // Only the Redis path needs ids to fetch at the end; the memory store hands incidents over itself.
  const touched = new Map<string, number>();
  let created = 0;
  const runtime = await createRuntime({
    env, store: opts.store, logger, eventClock: true, closeIdleIncidents: opts.store === 'memory',
    // A file's raw session ids are on disk already; remembering their HMACs costs no exposure there (the service's
    // hasher remembers none).
    rememberSessionHashes: SESSION_HASH_CACHE,
    ...(opts.rulesDir !== undefined ? { rulesDir: opts.rulesDir } : {}),
    ...(opts.keyPrefix !== undefined ? { keyPrefix: opts.keyPrefix } : {}),
    onIncident: ({ incident, outcome }) => {
      if (outcome === 'created') created++;
      if (opts.store !== 'memory' && !touched.has(incident.id)) touched.set(incident.id, touched.size);
    },
  });
  const memory = runtime.incidents instanceof MemoryIncidentStore ? runtime.incidents : undefined;
  const release = memory !== undefined && opts.releaseIncidents !== false;
  const summary: ScanSummary = {
    events_read: 0, events_accepted: 0, rejected: 0, rejected_by_reason: {}, skipped: 0, skipped_by_reason: {},
    accepted_by_type: {}, accepted_by_format: {}, incidents: 0, incidents_by_rule: {}, incidents_released: 0,
    sessions_evicted: 0, users_evicted: 0,
  };
  const kept: Incident[] = [];
  const emit = async (incident: Incident): Promise<void> => {
    await write(stdout, render(incident));
    summary.incidents++;
    bump(summary.incidents_by_rule, incident.rule.id);
    if (opts.keepIncidents !== false) kept.push(incident);
  };
  const processBatch = async (events: AuthEvent[]): Promise<void> => {
    await runtime.pipeline.process(events);
    if (!release) return;
    for (const incident of memory!.takeClosed()) {
      await emit(incident);
      summary.incidents_released++;
    }
  };
  const batchSize = opts.batchSize ?? 1000;
  const converter = new RecordConverter({ format, hasher: runtime.hasher, adapterOptions: opts.adapterOptions ?? {}, metrics: runtime.metrics });
  const progress = opts.progress ?? (stderr as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  // 0: the first batch draws the line at once, later ones once a second.
  let lastProgress = 0;
  const showProgress = (final: boolean): void => {
    if (!progress) return;
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = Math.round(summary.events_accepted / seconds);
    // \r and erase-line redraw one status line in place; the summary line replaces it at the end.
    stderr.write(final ? '\r\x1b[K' : `\r\x1b[Kreplayguard scan: ${summary.events_read} records, ${summary.events_accepted} events (${rate} events/s), ${created} incidents so far`);
  };
  const exampleShown = new Set<string>();

  try {
    if (runtime.ephemeralKey && opts.store === 'redis') {
      stderr.write('replayguard scan: RG_SESSION_KEY is not set; using a one-off key, so session hashes will not match the service\'s\n');
    }
    let batch: AuthEvent[] = [];
    for (const file of opts.files) {
      const name = file === '-' ? '<stdin>' : file;
      const input = file === '-' ? (opts.stdin ?? process.stdin) : createReadStream(file, { highWaterMark: 1024 * 1024 });
      try {
        for await (const record of decodeStream(input, { format, framing: 'sniff', ...(opts.decodeLimits ? { limits: opts.decodeLimits } : {}) })) {
          summary.events_read++;
          const outcome = converter.convert(record);
          if (outcome.ok) {
            summary.events_accepted++;
            bump(summary.accepted_by_type, outcome.event.type);
            bump(summary.accepted_by_format, outcome.format);
            batch.push(outcome.event);
            if (batch.length >= batchSize) {
              await processBatch(batch);
              batch = [];
              if (progress && Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
                lastProgress = Date.now();
                showProgress(false);
              }
            }
            continue;
          }
          const where = outcome.line !== undefined ? `${name}:${outcome.line}` : `${name}#${outcome.index}`;
          if (outcome.stage === 'adapter') {
            summary.skipped++;
            bump(summary.skipped_by_reason, outcome.code);
            // One example per reason: enough to see why (e.g. no session cookie configured) without flooding.
            if (!exampleShown.has(outcome.code)) {
              exampleShown.add(outcome.code);
              showProgress(true);
              stderr.write(`${where}: skipped (${outcome.code}, first of its kind): ${outcome.message}\n`);
            }
            continue;
          }
          summary.rejected++;
          bump(summary.rejected_by_reason, outcome.code);
          if (summary.rejected <= MAX_REJECTION_LINES) {
            showProgress(true);
            stderr.write(`${where}: rejected (${outcome.code}): ${outcome.message}\n`);
          }
        }
      } finally {
        if (file !== '-') input.destroy();
      }
    }
    if (batch.length > 0) await processBatch(batch);
    showProgress(true);

    if (memory) {
      for (const incident of memory.drain()) await emit(incident);
    } else {
      for (const id of touched.keys()) {
        const incident = await runtime.incidents.get(id);
        if (incident) await emit(incident);
      }
    }
    summary.sessions_evicted = runtime.evictions.sessions;
    summary.users_evicted = runtime.evictions.users;
    if (summary.rejected > MAX_REJECTION_LINES) stderr.write(`... and ${summary.rejected - MAX_REJECTION_LINES} more rejected records\n`);
    if (summary.sessions_evicted > 0 || summary.users_evicted > 0) {
      stderr.write(`replayguard scan: the memory cap dropped ${summary.sessions_evicted} live sessions (RG_MEMORY_MAX_SESSIONS=${env.RG_MEMORY_MAX_SESSIONS}) and ${summary.users_evicted} live users (RG_MEMORY_MAX_USERS=${env.RG_MEMORY_MAX_USERS}) before their TTL; their later events were judged without that history: raise the caps or split the input by time\n`);
    }
    stderr.write(`replayguard scan: ${JSON.stringify(summary)}\n`);
    return { exitCode: opts.failOnIncident && summary.incidents > 0 ? 1 : 0, summary, incidents: kept };
  } finally {
    await runtime.close();
  }
}
