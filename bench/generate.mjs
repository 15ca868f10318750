#!/usr/bin/env node
// Writes canonical NDJSON from bench/lib/events.mjs for scan memory measurements (docs/sources.md, scan section).
//
//   node bench/generate.mjs --events 300000 --sessions 200000 --attack-rate 0 [--segments 3 --gap-days 8] OUT
//
// Each of --segments holds --events events over a fresh set of sessions (the same users), 3 ms apart in event time;
// segments start --gap-days apart. With a gap longer than RG_SESSION_TTL_SECONDS, a file of 3 segments is 3 times the
// size of one with the same number of sessions alive at any time: what a long export of a steady service looks like.
import { createWriteStream, renameSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { EventGenerator } from './lib/events.mjs';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string', default: '300000' },
    sessions: { type: 'string', default: '200000' },
    zipf: { type: 'string', default: '0.9' },
    'attack-rate': { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    segments: { type: 'string', default: '1' },
    'gap-days': { type: 'string', default: '8' },
  },
});
const out = positionals[0];
if (!out) {
  process.stderr.write('usage: node bench/generate.mjs [--events N] [--sessions N] [--attack-rate R] [--segments K --gap-days D] OUT\n');
  process.exit(2);
}
const N = Number(o.events);
const T0 = Date.UTC(2026, 10, 1);
const stream = createWriteStream(`${out}.part`);
let distinct = 0;
let attacks = 0;
for (let seg = 0; seg < Number(o.segments); seg++) {
  const gen = new EventGenerator({
    sessions: Number(o.sessions), zipf: Number(o.zipf), attackRate: Number(o['attack-rate']), seed: Number(o.seed) + seg, runId: `seg${seg}`,
  });
  const start = T0 + seg * Number(o['gap-days']) * 86_400_000;
  let written = 0;
  while (written < N) {
    const batch = gen.batch(Math.min(1000, N - written), start + written * 3);
    let chunk = '';
    for (let k = 0; k < batch.events.length; k++) {
      const e = batch.events[k];
      // The batch shares one time; spread it so event time advances through the file (as bench/scan.mjs does).
      if (e.type !== 'logout') e.time = start + (written + k) * 3;
      chunk += JSON.stringify(e) + '\n';
    }
    written += batch.events.length;
    attacks += batch.attacks.length;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  distinct += gen.distinct;
}
stream.end();
await once(stream, 'finish');
renameSync(`${out}.part`, out);
process.stderr.write(`${out}: ${distinct} distinct sessions, ${attacks} attacks\n`);
