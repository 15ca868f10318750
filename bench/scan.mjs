#!/usr/bin/env node
// Benchmark, not a test: `replayguard scan` over a generated file of canonical events (NDJSON), embedded (memory
// store) and with `--store redis` (a private redis-server), reporting events/s and the scan process's peak RSS.
//
//   npm run build && node bench/scan.mjs [--events 1000000] [--sessions 200000] [--zipf 0.9] [--attack-rate 0.02]
//                                        [--stores memory,redis] [--regenerate] [--cpu-prof DIR] [--json FILE]
//                                        [--node-flags "--max-semi-space-size=64"] [--compare DIR [--repeat N]]
//
// --compare DIR runs another checkout's scan (say a worktree of the previous commit, built) and this one by turns,
// N times each, so both see the same load, with one session key and DIR's rules for both (only the code differs),
// and says whether their incident output was byte-identical (SHA-256 of stdout). --node-flags go to the scan process.
//
// The file (~330 MB for a million events) is written once to the temp directory and reused by later runs with the
// same parameters. Event times advance 3 ms per event from 2026-11-01, so a million events span ~50 minutes.
// events/s is accepted events over the scan's wall time; the wall time of scanning a one-event file (process
// start, geo and ASN data, rule load) is measured too and reported beside it.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { EventGenerator } from './lib/events.mjs';
import { describeMachine, machineLine } from './lib/machine.mjs';
import { memory } from './lib/proc.mjs';
import { startRedis } from './lib/redis.mjs';
import { ROOT } from './lib/services.mjs';

const { values: o } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    sessions: { type: 'string', default: '200000' },
    zipf: { type: 'string', default: '0.9' },
    'attack-rate': { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    stores: { type: 'string', default: 'memory,redis' },
    regenerate: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    compare: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const N = Number(o.events);
const T0 = Date.UTC(2026, 10, 1);
const started = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);

async function generate(file) {
  const gen = new EventGenerator({ sessions: Number(o.sessions), zipf: Number(o.zipf), attackRate: Number(o['attack-rate']), seed: Number(o.seed), runId: 'scan' });
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp);
  let written = 0;
  while (written < N) {
    const { events } = gen.batch(Math.min(1000, N - written), T0 + written * 3);
    // The batch shares one time; spread it so event time advances through the file.
    let chunk = '';
    for (let k = 0; k < events.length; k++) {
      const e = events[k];
      if (e.type !== 'logout') e.time = T0 + (written + k) * 3;
      chunk += JSON.stringify(e) + '\n';
    }
    written += events.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(tmp, file);
  return gen.distinct;
}

/**
 * Runs one scan of the checkout at `root` (rules from `rulesDir` when given); returns wall seconds, peak RSS (MB,
 * VmHWM polled), the summary line, incident lines and the SHA-256 of stdout.
 */
async function scan(file, store, env, nodeFlags = [], root = ROOT, rulesDir = undefined) {
  const args = [...nodeFlags, join(root, 'bin/replayguard.js'), 'scan', ...(store === 'redis' ? ['--store', 'redis'] : []), ...(rulesDir ? ['--rules', rulesDir] : []), file];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, RG_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const digest = createHash('sha256');
  let peak = 0;
  const timer = setInterval(() => {
    const m = memory(child.pid);
    if (m) peak = Math.max(peak, m.hwm);
  }, 100);
  let incidents = 0;
  let stderr = '';
  child.stdout.on('data', (d) => {
    digest.update(d);
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) incidents++;
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`scan (${store}) exited ${code}: ${stderr.slice(-2000)}`);
  const line = stderr.split('\n').find((l) => l.startsWith('replayguard scan: {'));
  const summary = line ? JSON.parse(line.slice('replayguard scan: '.length)) : {};
  return { seconds, peakMb: peak, summary, incidents, sha256: digest.digest('hex') };
}

const machine = describeMachine();
const file = join(tmpdir(), `rg-bench-scan-${N}-${o.sessions}-${o.zipf}-${o['attack-rate']}-${o.seed}.ndjson`);
if (o.regenerate || !existsSync(file)) {
  log(`generating ${N} events into ${file}`);
  await generate(file);
}
log(`input: ${file} (${(statSync(file).size / 1048576).toFixed(0)} MB)`);
const tiny = join(tmpdir(), 'rg-bench-scan-one.ndjson');
writeFileSync(tiny, JSON.stringify({ id: 'one', time: T0, type: 'login', session_id: 's', ip: '81.2.69.142', user_agent: 'curl/8.5.0' }) + '\n');

const sessionKey = randomBytes(32).toString('hex');
const results = { machine, events: N, file, runs: [] };
let redis;
try {
  for (const store of o.stores.split(',')) {
    const env = { RG_SESSION_KEY: sessionKey };
    if (store === 'redis') {
      redis ??= await startRedis();
      env.REDIS_URL = redis.url;
    }
    const flags = [...(o['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', o['cpu-prof']] : []), ...o['node-flags'].split(' ').filter(Boolean)];
    const codes = o.compare ? [{ name: 'compared', root: o.compare }, { name: 'this', root: ROOT }] : [{ name: 'this', root: ROOT }];
    const rulesDir = o.compare ? join(o.compare, 'rules') : undefined;
    const startup = await scan(tiny, store, env, [], ROOT, rulesDir);
    log(`${store}: startup (one-event file) ${startup.seconds.toFixed(2)} s; scanning`);
    for (let k = 0; k < Number(o.repeat); k++) {
      for (const code of codes) {
        const loadStart = loadavg()[0];
        const r = await scan(file, store, env, flags, code.root, rulesDir);
        const accepted = r.summary.events_accepted ?? 0;
        const run = {
          store, code: code.name, seconds: r.seconds, startupSeconds: startup.seconds, accepted, rate: accepted / r.seconds,
          rateExStartup: accepted / Math.max(0.001, r.seconds - startup.seconds), peakMb: r.peakMb, incidents: r.summary.incidents, rejected: r.summary.rejected,
          load: `${loadStart.toFixed(2)} → ${loadavg()[0].toFixed(2)}`, sha256: r.sha256,
        };
        results.runs.push(run);
        log(`${store} (${code.name}): ${Math.round(run.rate)} events/s, peak RSS ${run.peakMb.toFixed(0)} MB, ${run.incidents} incidents, load ${run.load}`);
      }
    }
  }
} finally {
  await redis?.stop();
}
results.machineAfter = describeMachine();

const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const out = [`\nreplayguard scan — ${machineLine(machine)}`, `load at the end: ${results.machineAfter.load}; ${f(N)} events, ${o.sessions} sessions, Zipf ${o.zipf}, attacks ${(Number(o['attack-rate']) * 100).toFixed(1)}%`, '',
  '| store | code | events/s (wall) | events/s (minus startup) | wall s | startup s | peak RSS | incidents | load (1 min, start → end) |', '|---|---|---|---|---|---|---|---|---|'];
for (const r of results.runs) out.push(`| ${r.store} | ${r.code} | **${f(r.rate)}** | ${f(r.rateExStartup)} | ${f(r.seconds, 1)} | ${f(r.startupSeconds, 2)} | ${f(r.peakMb)} MB | ${f(r.incidents ?? 0)} | ${r.load} |`);
if (o.compare) {
  for (const store of new Set(results.runs.map((r) => r.store))) {
    const hashes = new Set(results.runs.filter((r) => r.store === store).map((r) => r.sha256));
    out.push(`${store}: incident output ${hashes.size === 1 ? 'byte-identical across all runs' : `DIFFERS (${hashes.size} distinct outputs)`}`);
  }
}
process.stdout.write(out.join('\n') + '\n');
if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2));
