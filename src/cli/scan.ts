// `replayguard scan FILE... | -`: forensic replay of canonical events (JSON lines) through the full
// pipeline. Incidents go to stdout, one JSON object per line; the summary goes to stderr.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { loadEnv } from '../config/env.js';
import { normalizeOne } from '../events/normalize.js';
import type { AuthEvent } from '../events/schema.js';
import type { Incident } from '../incidents/model.js';
import { createLogger } from '../observability/logger.js';
import { createRuntime, type StoreKind } from '../runtime.js';

export interface ScanOptions {
  files: string[];
  store: StoreKind;
  rulesDir?: string;
  failOnIncident: boolean;
  batchSize?: number;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  env?: NodeJS.ProcessEnv;
  keyPrefix?: string;
}

export interface ScanSummary {
  events_read: number;
  events_accepted: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  incidents: number;
  incidents_by_rule: Record<string, number>;
}

const MAX_REJECTION_LINES = 20;

export async function runScan(opts: ScanOptions): Promise<{ exitCode: number; summary: ScanSummary; incidents: Incident[] }> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const env = loadEnv(opts.env ?? process.env);
  const logger = createLogger(env.RG_LOG_LEVEL === 'info' ? 'warn' : env.RG_LOG_LEVEL);
  const touched = new Map<string, number>();
  const runtime = await createRuntime({
    env, store: opts.store, logger, eventClock: true,
    ...(opts.rulesDir !== undefined ? { rulesDir: opts.rulesDir } : {}),
    ...(opts.keyPrefix !== undefined ? { keyPrefix: opts.keyPrefix } : {}),
    onIncident: ({ incident }) => {
      if (!touched.has(incident.id)) touched.set(incident.id, touched.size);
    },
  });
  const summary: ScanSummary = { events_read: 0, events_accepted: 0, rejected: 0, rejected_by_reason: {}, incidents: 0, incidents_by_rule: {} };
  const batchSize = opts.batchSize ?? 1000;
  try {
    if (runtime.ephemeralKey && opts.store === 'redis') {
      stderr.write('replayguard scan: RG_SESSION_KEY is not set; using a one-off key, so session hashes will not match the service\'s\n');
    }
    let batch: AuthEvent[] = [];
    for (const file of opts.files) {
      const input = file === '-' ? (opts.stdin ?? process.stdin) : createReadStream(file);
      const lines = createInterface({ input, crlfDelay: Infinity });
      let lineNo = 0;
      for await (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        summary.events_read++;
        let value: unknown;
        let result: ReturnType<typeof normalizeOne>;
        try {
          value = JSON.parse(line);
          result = normalizeOne(value, runtime.hasher);
        } catch (err) {
          result = { ok: false, code: 'invalid_json', message: `not JSON: ${(err as Error).message}` };
        }
        if (!result.ok) {
          summary.rejected++;
          summary.rejected_by_reason[result.code] = (summary.rejected_by_reason[result.code] ?? 0) + 1;
          runtime.metrics.eventsRejected.inc({ reason: result.code });
          if (summary.rejected <= MAX_REJECTION_LINES) stderr.write(`${file === '-' ? '<stdin>' : file}:${lineNo}: rejected (${result.code}): ${result.message}\n`);
          continue;
        }
        summary.events_accepted++;
        batch.push(result.event);
        if (batch.length >= batchSize) {
          await runtime.pipeline.process(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await runtime.pipeline.process(batch);

    const incidents: Incident[] = [];
    for (const id of touched.keys()) {
      const incident = await runtime.incidents.get(id);
      if (incident) incidents.push(incident);
    }
    for (const incident of incidents) {
      stdout.write(JSON.stringify(incident) + '\n');
      summary.incidents++;
      summary.incidents_by_rule[incident.rule.id] = (summary.incidents_by_rule[incident.rule.id] ?? 0) + 1;
    }
    if (summary.rejected > MAX_REJECTION_LINES) stderr.write(`... and ${summary.rejected - MAX_REJECTION_LINES} more rejected lines\n`);
    stderr.write(`replayguard scan: ${JSON.stringify(summary)}\n`);
    return { exitCode: opts.failOnIncident && summary.incidents > 0 ? 1 : 0, summary, incidents };
  } finally {
    await runtime.close();
  }
}
