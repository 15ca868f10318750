// Runs the bench in worker threads, one shard of users each (users share no pipeline state: windows are per
// session, baselines per user), and merges the books. One shard gives the same figures, only slower.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runQuality } from './harness.mjs';

function strip(run) {
  const { world, nets, ...rest } = run;
  return rest;
}

export function defaultWorkers() {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export async function runParallel(opts, workers = defaultWorkers(), onProgress = () => {}) {
  if (workers <= 1) return strip(await runQuality({ ...opts, onProgress: (p) => onProgress(0, p) }));
  const { onProgress: _, ...data } = opts;
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, shard) => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { ...data, shard, shards: workers },
        // a large young generation: the pipeline allocates many short-lived objects per event
        resourceLimits: { maxYoungGenerationSizeMb: 192 },
      });
      w.on('message', (m) => (m.type === 'progress' ? onProgress(shard, m.progress) : resolve(m.run)));
      w.on('error', reject);
      w.on('exit', (code) => code !== 0 && reject(new Error(`bench worker ${shard} exited with ${code}`)));
    })),
  );
  const merged = { ...parts[0], labels: [], incidents: [], events: 0, skips: {}, timings: { setupMs: 0, pipelineMs: 0 }, shards: workers };
  for (const p of parts) {
    merged.labels.push(...p.labels);
    merged.incidents.push(...p.incidents);
    merged.events += p.events;
    for (const [k, v] of Object.entries(p.skips)) merged.skips[k] = (merged.skips[k] ?? 0) + v;
    merged.timings.setupMs = Math.max(merged.timings.setupMs, p.timings.setupMs);
    merged.timings.pipelineMs = Math.max(merged.timings.pipelineMs, p.timings.pipelineMs);
  }
  return merged;
}

if (!isMainThread && workerData?.shards !== undefined) {
  const run = await runQuality({ ...workerData, onProgress: (progress) => parentPort.postMessage({ type: 'progress', progress }) });
  parentPort.postMessage({ type: 'done', run: strip(run) });
}
