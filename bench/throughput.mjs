#!/usr/bin/env node
// Benchmark, not a test: the whole service path, POST /v1/events → BullMQ → workers → Redis → incident, against the
// Redis ceiling (the observe script alone), on this machine. Prints a table; `--json FILE` also writes the figures.
//
//   npm run build && node bench/throughput.mjs [--workers 2] [--seconds 25] [--fixed-seconds 20] [--rate 5000] ...
//
// Phases (about 80 s with the defaults):
//   1. ceiling    a private redis-server; the observe Lua script alone, pipelined from one client (--ceiling-seconds)
//   2. start      the API (`replayguard serve --no-worker`) and --workers worker processes on that Redis
//   3. saturate   closed loop for --seconds: --concurrency requests of --batch events in flight, the backlog of
//                 accepted-but-unprocessed events held under --max-backlog; sustained events/s = events whose job
//                 completed inside the measured window (after --warmup s) / window length
//   4. fixed      open loop at --rate events/s for --fixed-seconds: detection latency of the marked attacks
//   5. memory     Redis INFO memory and MEMORY USAGE of sampled session keys
//   6. soak       (--soak-seconds > 0) open loop at --soak-rate for that long; every --soak-every s the RSS of each
//                 process, Redis used_memory and key counts: the memory curve, flat when nothing leaks (run it with
//                 --session-ttl 120 so that sessions expire within the run and the live state reaches its plateau)
// Everything it starts is stopped at the end (also on Ctrl-C).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { EventGenerator } from './lib/events.mjs';
import { measureCeiling, observationPool } from './lib/ceiling.mjs';
import { Poster, runClosedLoop, runOpenLoop } from './lib/load.mjs';
import { describeMachine, machineLine } from './lib/machine.mjs';
import { memory, ProcessSampler } from './lib/proc.mjs';
import { CompletionTracker } from './lib/queue.mjs';
import { freePort, parseInfo, redisCli, startRedis } from './lib/redis.mjs';
import { spawnReplayguard, stopProcess, waitForHttp } from './lib/services.mjs';
import { attackLatencies, incidentTimesByEvent, percentile } from './lib/stats.mjs';

const { values: o } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    'worker-concurrency': { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
    'shared-partitions': { type: 'boolean', default: false },
    seconds: { type: 'string', default: '25' },
    warmup: { type: 'string', default: '5' },
    'fixed-seconds': { type: 'string', default: '20' },
    rate: { type: 'string', default: '5000' },
    'tick-ms': { type: 'string', default: '100' },
    'ceiling-seconds': { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '4' },
    batch: { type: 'string', default: '1000' },
    'max-backlog': { type: 'string', default: '20000' },
    'job-batch': { type: 'string', default: '500' },
    sessions: { type: 'string', default: '200000' },
    zipf: { type: 'string', default: '0.9' },
    'attack-rate': { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    'memory-sample': { type: 'string', default: '2000' },
    'cpu-prof': { type: 'string' },
    'redis-stats': { type: 'boolean', default: false },
    'skip-ceiling': { type: 'boolean', default: false },
    'redis-arg': { type: 'string', multiple: true, default: [] },
    'node-options': { type: 'string' },
    'soak-seconds': { type: 'string', default: '0' },
    'soak-rate': { type: 'string', default: '2000' },
    'soak-every': { type: 'string', default: '60' },
    'session-ttl': { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  process.stdout.write(`usage: node bench/throughput.mjs [--workers N] [--worker-concurrency N] [--partitions N] [--seconds S]
  [--warmup S] [--fixed-seconds S] [--rate EV/S] [--tick-ms MS] [--ceiling-seconds S] [--concurrency N] [--batch N]
  [--shared-partitions] [--max-backlog N] [--job-batch N] [--sessions N] [--zipf S] [--attack-rate F] [--seed N] [--memory-sample N]
  [--cpu-prof DIR] [--redis-stats] [--skip-ceiling] [--redis-arg ARG]... [--node-options OPTS] [--json FILE]
  [--soak-seconds S] [--soak-rate EV/S] [--soak-every S] [--session-ttl S]\n`);
  process.exit(0);
}
const num = (k) => Number(o[k]);
const started = Date.now();
const machineBefore = describeMachine();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);

const sessionKey = randomBytes(32).toString('hex');
const token = randomBytes(24).toString('hex');
const runId = Date.now().toString(36);
const cleanup = [];
let stopping = false;
async function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
}
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));

const results = { machine: machineBefore, options: o };
try {
  // e.g. --redis-arg=--hash-max-listpack-value --redis-arg=512
  const redisServer = await startRedis(o['redis-arg']);
  cleanup.push(() => redisServer.stop());
  const redis = new Redis(redisServer.url);
  cleanup.push(async () => redis.disconnect());
  log(`redis-server ${redisServer.url} (pid ${redisServer.pid})`);

  // 1. The ceiling, on an empty Redis, before anything else runs on it.
  if (!o['skip-ceiling']) {
    const poolGen = new EventGenerator({ sessions: num('sessions'), zipf: num('zipf'), attackRate: num('attack-rate'), seed: num('seed') + 1000, runId: `${runId}c`, sessionKey });
    const pool = await observationPool(poolGen, 50_000, sessionKey);
    log(`ceiling: observe script alone, pipelined from one client, ${o['ceiling-seconds']} s`);
    const bench = new ProcessSampler([{ name: 'bench (client)', pid: process.pid }]).start();
    const c = await measureCeiling({ url: redisServer.url, redisPid: redisServer.pid, pool, seconds: num('ceiling-seconds') });
    const [client] = bench.stop();
    results.ceiling = { rate: c.rate, redisCpu: c.redisCpu, clientCpu: client.cpu };
    log(`ceiling: ${Math.round(c.rate)} calls/s (redis ${Math.round(c.redisCpu * 100)}% of a core, client ${Math.round(client.cpu * 100)}%)`);
    await redis.flushall();
    await redis.config('RESETSTAT');
  }

  // 2. The service.
  const port = await freePort();
  const env = {
    REDIS_URL: redisServer.url, RG_SESSION_KEY: sessionKey, RG_API_TOKENS: `bench:admin:${token}`, PORT: String(port), HOST: '127.0.0.1',
    RG_RULES_DIR: 'rules', RG_LOG_LEVEL: 'warn', RG_BATCH_SIZE: o['job-batch'], RG_WORKER_CONCURRENCY: o['worker-concurrency'],
    RG_INGEST_PARTITIONS: o.partitions,
    ...(o['session-ttl'] ? { RG_SESSION_TTL_SECONDS: o['session-ttl'] } : {}),
    // e.g. --node-options=--max-semi-space-size=64 (API and workers)
    ...(o['node-options'] ? { NODE_OPTIONS: o['node-options'] } : {}),
  };
  const api = spawnReplayguard('api', ['serve', '--no-worker'], env);
  cleanup.push(() => stopProcess(api));
  const workers = [];
  for (let i = 0; i < num('workers'); i++) {
    const flags = o['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', o['cpu-prof']] : [];
    // Each worker owns a share of the partitions (RG_WORKER_PARTITIONS), so all events of a session meet one
    // process and its window cache; --shared-partitions lets every worker take every partition instead.
    const parts = num('partitions');
    const nw = num('workers');
    const from = Math.floor((i * parts) / nw);
    const to = Math.max(from, Math.floor(((i + 1) * parts) / nw) - 1);
    const own = o['shared-partitions'] || nw > parts ? {} : { RG_WORKER_PARTITIONS: `${from}-${to}` };
    const w = spawnReplayguard(`worker ${i + 1}`, ['worker'], { ...env, ...own }, flags);
    workers.push(w);
    cleanup.push(() => stopProcess(w));
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/readyz`, 30_000, api);
  const poster = new Poster(baseUrl, token, num('concurrency') + 64);
  cleanup.push(async () => poster.close());
  const tracker = new CompletionTracker(redisServer.url);
  cleanup.push(() => tracker.stop());
  const gen = new EventGenerator({ sessions: num('sessions'), zipf: num('zipf'), attackRate: num('attack-rate'), seed: num('seed'), runId, sessionKey });
  const attacks = [];

  // Until every worker has taken a job: a few small batches, spread over every partition.
  log(`api ${baseUrl} (pid ${api.pid}); workers ${workers.map((w) => w.pid).join(', ')}; waiting until they consume`);
  for (let i = 0; i < 20 && tracker.streams.size === 0; i++) {
    await poster.post(gen.batch(200).events);
    await sleep(200);
    await tracker.discover();
  }
  const streams = await tracker.discover();
  tracker.start();
  for (let i = 0; ; i++) {
    await poster.post(gen.batch(200).events);
    await sleep(250);
    await tracker.discover();
    if (tracker.processed >= poster.accepted && i >= 4) break;
    for (const w of [api, ...workers]) if (w.child.exitCode !== null) throw new Error(`${w.name} exited: ${w.stderr.slice(-2000)}`);
    if (i > 240) throw new Error(`workers did not consume the warm-up events (${tracker.processed}/${poster.accepted}); stderr: ${workers[0].stderr.slice(-2000)}`);
  }
  log(`ingest queues: ${[...tracker.streams.keys()].join(' ')} (${streams.length} found before load)`);
  const memBefore = parseInfo(redisCli(redisServer.port, 'INFO', 'memory'));
  const sessionsBefore = gen.distinct;

  const procs = [{ name: 'redis-server', pid: redisServer.pid }, { name: 'api', pid: api.pid }, ...workers.map((w) => ({ name: w.name, pid: w.pid })), { name: 'bench (load gen)', pid: process.pid }];

  // 3. Saturation.
  log(`saturate: ${o.seconds} s closed loop, ${o.concurrency} × ${o.batch} events in flight, backlog ≤ ${o['max-backlog']}`);
  const acceptedBefore = poster.accepted;
  const processedBefore = tracker.processed;
  const sampler = new ProcessSampler(procs).start();
  const t0 = Date.now();
  const loop = await runClosedLoop({
    poster, gen, seconds: num('seconds'), concurrency: num('concurrency'), batch: num('batch'), maxBacklog: num('max-backlog'),
    processed: () => tracker.processed, attacks, phase: 'saturate',
  });
  const t1 = Date.now();
  const usage = sampler.stop();
  await tracker.poll();
  const winFrom = t0 + num('warmup') * 1000;
  const measured = tracker.processedBetween(winFrom, t1);
  const sustained = measured / ((t1 - winFrom) / 1000);
  const intake = (poster.accepted - acceptedBefore) / ((t1 - t0) / 1000);
  // Drain: how long until everything accepted is processed.
  let drained = Date.now();
  for (let i = 0; i < 600 && tracker.processed < poster.accepted; i++) {
    await sleep(100);
    await tracker.poll();
    drained = Date.now();
  }
  const drainOk = tracker.processed >= poster.accepted;
  const overall = (tracker.processed - processedBefore) / ((drained - t0) / 1000);
  results.saturate = {
    sustained, intake, overall, drainSeconds: (drained - t1) / 1000, drainOk, backlogWaits: loop.backlogWaits,
    requests: poster.requests, shed: poster.shed, errors: poster.errors, lastError: poster.lastError, usage,
  };
  log(`saturate: ${Math.round(sustained)} events/s processed (steady window), intake ${Math.round(intake)}/s, drained in ${((drained - t1) / 1000).toFixed(1)} s`);

  // 4. Fixed offered load: latency.
  log(`fixed: ${o.rate} events/s offered for ${o['fixed-seconds']} s (one request every ${o['tick-ms']} ms)`);
  const fixedSampler = new ProcessSampler(procs).start();
  const f0 = Date.now();
  const fixedProcessed0 = tracker.processed;
  const open = await runOpenLoop({ poster, gen, seconds: num('fixed-seconds'), rate: num('rate'), tickMs: num('tick-ms'), attacks, phase: 'fixed' });
  const f1 = Date.now();
  const fixedUsage = fixedSampler.stop();
  for (let i = 0; i < 600 && tracker.processed < poster.accepted; i++) {
    await sleep(100);
    await tracker.poll();
  }
  const fixedRate = (tracker.processed - fixedProcessed0) / ((f1 - f0) / 1000);
  // Per-command latency percentiles (Redis 7), read before the memory phase's KEYS and MEMORY USAGE calls.
  if (o['redis-stats']) results.latencystats = redisCli(redisServer.port, 'INFO', 'latencystats');

  // Latencies, from the incidents as stored in Redis.
  await sleep(500);
  const { byEvent, incidents } = await incidentTimesByEvent(redisServer.url);
  results.incidents = incidents;
  results.latency = {
    fixed: attackLatencies(attacks.filter((a) => a.phase === 'fixed'), byEvent),
    saturate: attackLatencies(attacks.filter((a) => a.phase === 'saturate'), byEvent),
  };
  results.fixed = { offered: open.offered / ((f1 - f0) / 1000), processedRate: fixedRate, skippedTicks: open.skipped, usage: fixedUsage };

  // 5. Memory.
  const memAfter = parseInfo(redisCli(redisServer.port, 'INFO', 'memory'));
  const keyspace = redisCli(redisServer.port, 'INFO', 'keyspace');
  const sample = [];
  const sampleN = Math.min(num('memory-sample'), gen.distinct);
  {
    const seen = [];
    for (let i = 0; i < gen.sessions; i++) if (gen.seen[i]) seen.push(i);
    for (let k = 0; k < sampleN; k++) sample.push(seen[Math.floor((k * seen.length) / sampleN)]);
  }
  const { SessionHasher } = await import('../dist/events/normalize.js');
  const hasher = new SessionHasher(sessionKey);
  const p = redis.pipeline();
  for (const i of sample) {
    const h = gen.sessionHash(i, hasher);
    for (const suffix of ['w', 'ids', 't']) p.call('MEMORY', 'USAGE', `rg:{s:${h}}:${suffix}`, 'SAMPLES', '0');
  }
  const usages = (await p.exec()).map(([, v]) => Number(v ?? 0));
  const perSession = [];
  const parts = { w: 0, ids: 0, t: 0 };
  for (let k = 0; k < sample.length; k++) {
    const [w, ids, t] = usages.slice(k * 3, k * 3 + 3);
    parts.w += w;
    parts.ids += ids;
    parts.t += t;
    perSession.push(w + ids + t);
  }
  perSession.sort((a, b) => a - b);
  // BullMQ's own keys (jobs kept after completion, with their events: removeOnComplete), and user baselines.
  const sumUsage = (pattern) => Number(redisCli(redisServer.port, 'EVAL',
    `local n, b = 0, 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + 1 b = b + (redis.call('MEMORY', 'USAGE', k, 'SAMPLES', 0) or 0) end return {n, b}`, '0', pattern).split('\n')[1]);
  const jobKeys = Number(redisCli(redisServer.port, 'EVAL', `return #redis.call('KEYS', 'rg:q:*')`, '0'));
  const jobBytes = sumUsage('rg:q:*');
  const baselineBytes = sumUsage('rg:{u:*}:b');
  const incidentBytes = sumUsage('rg:{inc}:*');
  // Facts shared by windows (a network's place and AS, a user agent), kept once per distinct text.
  const factKeys = Number(redisCli(redisServer.port, 'EVAL', `return #redis.call('KEYS', 'rg:{m}:*')`, '0'));
  const factBytes = sumUsage('rg:{m}:*');
  const sessions = gen.distinct;
  const totalDelta = Number(memAfter.used_memory) - Number(memBefore.used_memory);
  results.memory = {
    sessions, sessionsBefore, usedBefore: Number(memBefore.used_memory), usedAfter: Number(memAfter.used_memory), totalDelta,
    perSessionTotal: totalDelta / (sessions - sessionsBefore),
    sampled: { n: sample.length, mean: perSession.reduce((a, b) => a + b, 0) / Math.max(1, sample.length), p50: percentile(perSession, 50), p99: percentile(perSession, 99),
      window: parts.w / Math.max(1, sample.length), ids: parts.ids / Math.max(1, sample.length), transitions: parts.t / Math.max(1, sample.length) },
    keyspace: keyspace.split('\n').filter((l) => l.startsWith('db')).join(' '), queueKeys: jobKeys, queueBytes: jobBytes, baselineBytes, incidentBytes, factKeys, factBytes,
  };
  if (o['redis-stats']) {
    results.commandstats = redisCli(redisServer.port, 'INFO', 'commandstats');
    results.slowlog = redisCli(redisServer.port, 'SLOWLOG', 'GET', '10');
  }

  // 6. Soak: the memory curve under a steady load.
  if (num('soak-seconds') > 0) {
    log(`soak: ${o['soak-rate']} events/s offered for ${o['soak-seconds']} s, sampled every ${o['soak-every']} s`);
    const curve = [];
    const s0 = Date.now();
    const sample = async () => {
      await tracker.poll();
      const mem = parseInfo(redisCli(redisServer.port, 'INFO', 'memory'));
      const count = (pattern) => Number(redisCli(redisServer.port, 'EVAL', `return #redis.call('KEYS', ARGV[1])`, '0', pattern));
      curve.push({
        t: Math.round((Date.now() - s0) / 1000), processed: tracker.processed, accepted: poster.accepted,
        redisUsed: Number(mem.used_memory), windows: count('rg:{s:*}:w'), incidentKeys: count('rg:{inc}:*'), keys: Number(redisCli(redisServer.port, 'DBSIZE')),
        // Where the rest of Redis's memory is: incidents live 90 days (RG_INCIDENT_TTL_SECONDS) and grow with attacks.
        incidentMb: sumUsage('rg:{inc}:*') / 1048576, baselines: count('rg:{u:*}:b'), facts: count('rg:{m}:*'), queueKeys: count('rg:q:*'),
        rss: procs.map((p) => ({ name: p.name, rss: memory(p.pid)?.rss })),
      });
    };
    await sample();
    let next = num('soak-every');
    const soakEnd = s0 + num('soak-seconds') * 1000;
    while (Date.now() < soakEnd) {
      const slice = Math.min(next * 1000 + s0, soakEnd) - Date.now();
      if (slice > 200) await runOpenLoop({ poster, gen, seconds: slice / 1000, rate: num('soak-rate'), tickMs: num('tick-ms'), attacks: [], phase: 'soak' });
      await sample();
      next += num('soak-every');
    }
    results.soak = { rate: num('soak-rate'), seconds: num('soak-seconds'), sessionTtl: o['session-ttl'], curve };
  }
  results.machineAfter = describeMachine();

  // Stop what we started before printing (the workers' CPU profiles are written at exit).
  await stopAll();
  printReport(results);
  if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2));
} catch (err) {
  process.stderr.write(`throughput bench failed: ${err.stack ?? err}\n`);
  await stopAll();
  process.exit(1); // a client of a stopped Redis would otherwise keep retrying
}

function printReport(r) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
  const out = [];
  out.push(`\nreplayguard throughput — ${machineLine(r.machine)}`);
  out.push(`load at the end: ${r.machineAfter.load}; workers ${r.options.workers} × concurrency ${r.options['worker-concurrency']} over ${r.options.partitions} partitions (${r.options['shared-partitions'] ? 'shared' : 'owned'}), job batch ${r.options['job-batch']}, ` +
    `${r.options.sessions} sessions, Zipf ${r.options.zipf}, attacks ${(Number(r.options['attack-rate']) * 100).toFixed(1)}% of events`);
  out.push('');
  out.push('| figure | value |');
  out.push('|---|---|');
  if (r.options['node-options']) out.push(`| NODE_OPTIONS of the API and workers | ${r.options['node-options']} |`);
  if (r.options['redis-arg']?.length) out.push(`| redis-server options | ${r.options['redis-arg'].join(' ')} |`);
  const s = r.saturate;
  if (r.ceiling) {
    // With one client the client can be the limit (its CPU is shown): calls per second of Redis CPU is what the
    // script costs Redis, i.e. the rate one Redis core would reach with enough clients.
    const perCore = r.ceiling.rate / Math.max(0.01, r.ceiling.redisCpu);
    out.push(`| Redis ceiling (observe script alone, pipelined, 1 client, steady state) | ${f(r.ceiling.rate)} calls/s (redis-server ${f(r.ceiling.redisCpu * 100)}% of a core, client ${f(r.ceiling.clientCpu * 100)}%); ${f(perCore)} calls per Redis CPU-second |`);
    out.push(`| sustained end to end (POST → decision), steady window | **${f(s.sustained)} events/s** = ${f((s.sustained / r.ceiling.rate) * 100, 1)}% of the one-client ceiling, ${f((s.sustained / perCore) * 100, 1)}% of one Redis core's capacity |`);
  } else {
    out.push(`| sustained end to end (POST → decision), steady window | **${f(s.sustained)} events/s** |`);
  }
  out.push(`| API intake / overall incl. drain | ${f(s.intake)} / ${f(s.overall)} events/s (drain ${f(s.drainSeconds, 1)} s${s.drainOk ? '' : ', NOT drained'}) |`);
  out.push(`| requests / shed (429, 503) / errors | ${f(s.requests)} / ${f(s.shed)} / ${f(s.errors)}${s.lastError ? ` (${s.lastError})` : ''} |`);
  const L = (x) => `p50 ${f(x.p50)} / p95 ${f(x.p95)} / p99 ${f(x.p99)} / max ${f(x.max)} ms (n=${x.n})`;
  out.push(`| detection latency at ${f(r.fixed.offered)} events/s offered (accepted → incident stored) | **${L(r.latency.fixed.accepted)}** |`);
  out.push(`| … from request sent | ${L(r.latency.fixed.sent)} |`);
  out.push(`| … attacks missed / folded into an older incident | ${r.latency.fixed.missed} ${JSON.stringify(r.latency.fixed.missedKinds)} / ${r.latency.fixed.folded} |`);
  out.push(`| detection latency under saturation (queueing included) | ${L(r.latency.saturate.accepted)} |`);
  out.push(`| processed at the fixed load | ${f(r.fixed.processedRate)} events/s |`);
  const m = r.memory;
  out.push(`| Redis memory per active session: sampled MEMORY USAGE (window + ids + transitions) | mean ${f(m.sampled.mean)} B (p50 ${f(m.sampled.p50)}, p99 ${f(m.sampled.p99)}; window ${f(m.sampled.window)} + ids ${f(m.sampled.ids)} + transitions ${f(m.sampled.transitions)}), n=${m.sampled.n} |`);
  out.push(`| Redis used_memory growth / sessions created (all keys: baselines, incidents, retained jobs) | ${f(m.perSessionTotal)} B (${f(m.totalDelta / 1048576, 1)} MB / ${f(m.sessions - m.sessionsBefore)}) |`);
  out.push(`| … of which BullMQ keys (kept completed jobs and their events) / user baselines / incidents | ${f(m.queueBytes / 1048576, 1)} MB (${f(m.queueKeys)} keys) / ${f(m.baselineBytes / 1048576, 1)} MB / ${f(m.incidentBytes / 1048576, 1)} MB |`);
  if (m.factKeys !== undefined) out.push(`| … of which window facts shared by sessions (networks, user agents) | ${f(m.factBytes / 1048576, 1)} MB (${f(m.factKeys)} keys, ${f(m.factBytes / Math.max(1, m.sessions))} B per session) |`);
  out.push(`| Redis keys | ${m.keyspace} |`);
  out.push('');
  out.push('| process | CPU saturate (cores) | CPU at fixed load | RSS end / peak (MB) |');
  out.push('|---|---|---|---|');
  for (let i = 0; i < s.usage.length; i++) {
    const u = s.usage[i];
    const v = r.fixed.usage[i];
    out.push(`| ${u.name} | ${f(u.cpu, 2)} | ${f(v.cpu, 2)} | ${f(v.rss)} / ${f(Math.max(u.peakRss, v.peakRss))} |`);
  }
  const tot = s.usage.reduce((a, u) => a + u.cpu, 0);
  out.push(`| all | ${f(tot, 2)} | ${f(r.fixed.usage.reduce((a, u) => a + u.cpu, 0), 2)} | |`);
  if (r.soak) {
    const c = r.soak.curve;
    out.push('', `Soak: ${f(r.soak.rate)} events/s offered for ${f(r.soak.seconds)} s${r.soak.sessionTtl ? `, session TTL ${r.soak.sessionTtl} s` : ''}`, '');
    out.push(`| t (s) | processed | Redis used (MB) | … of it incidents (MB) | windows | baselines | facts | queue keys | incident keys | keys | ${c[0].rss.map((p) => `${p.name} RSS (MB)`).join(' | ')} |`);
    out.push(`|---|---|---|---|---|---|---|---|---|---|${c[0].rss.map(() => '---').join('|')}|`);
    for (const x of c) {
      out.push(`| ${x.t} | ${f(x.processed)} | ${f(x.redisUsed / 1048576, 1)} | ${f(x.incidentMb, 1)} | ${f(x.windows)} | ${f(x.baselines)} | ${f(x.facts)} | ${f(x.queueKeys)} | ${f(x.incidentKeys)} | ${f(x.keys)} | ${x.rss.map((p) => f(p.rss)).join(' | ')} |`);
    }
  }
  if (r.commandstats) out.push('', r.commandstats, '', r.slowlog);
  if (r.latencystats) out.push('', r.latencystats);
  process.stdout.write(out.join('\n') + '\n');
}
