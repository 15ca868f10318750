// Benchmark, not a test: `replayguard scan` of a large NDJSON file runs in constant memory.
//
// Generates canonical NDJSON files of two sizes (a tenth of --mb, then --mb; default 200 MB) over a fixed number of
// sessions, scans each with the installed command (`node bin/replayguard.js scan`, so run `npm run build` first) in a
// child process, and prints records, events/s and the child's peak RSS (VmHWM from /proc: Linux only). If decoding
// held the file, peak RSS would grow tenfold with it; it should not. (The in-memory window store does grow with the
// number of distinct sessions, which is why that number is fixed here.)
//
// This file uses Node built-ins only, so it runs after a one-file compile:
//   npm run build
//   npx tsc bench/scan-memory.ts --outDir /tmp/rg-bench --module nodenext --target es2022 --types node --skipLibCheck
//   node /tmp/rg-bench/scan-memory.js [--mb 200] [--sessions 20000] [--gzip] [--array] [--keep]
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    sessions: { type: 'string', default: '20000' },
    gzip: { type: 'boolean', default: false },
    array: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const targetMb = Number(values.mb);
const sessions = Number(values.sessions);
const BIN = resolve(process.cwd(), 'bin/replayguard.js');

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];

/** Writes about `mb` megabytes of events (uncompressed) and returns the file and how many records it holds. */
async function generate(mb: number, name: string): Promise<{ file: string; records: number }> {
  const file = join(tmpdir(), `${name}${values.array ? '.json' : '.ndjson'}${values.gzip ? '.gz' : ''}`);
  const out = createWriteStream(file);
  const gz = values.gzip ? createGzip() : undefined;
  if (gz) gz.pipe(out);
  const sink = gz ?? out;
  const limit = mb * 1024 * 1024;
  let written = 0;
  let records = 0;
  const start = Date.UTC(2026, 10, 1);
  if (values.array) sink.write('[\n');
  while (written < limit) {
    const s = records % sessions;
    const event = {
      id: `bench-${records}`,
      time: start + records * 50,
      type: 'request',
      session_id: `bench-session-${s}-${(s * 2654435761) % 1_000_003}`,
      user_id: `user${s % 5000}@example.com`,
      ip: `81.2.${s % 200}.${(s % 250) + 1}`,
      user_agent: UAS[s % UAS.length],
      tenant: 'bench',
    };
    const text = (values.array && records > 0 ? ',\n' : '') + JSON.stringify(event) + (values.array ? '' : '\n');
    written += text.length;
    records++;
    if (!sink.write(text)) await once(sink, 'drain');
  }
  if (values.array) sink.write('\n]\n');
  sink.end();
  await once(out, 'close');
  return { file, records };
}

function vmHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// Decoding alone (src/ingest/decode.ts, built): what the framing costs, without the pipeline's per-session state.
const DECODE_ONLY = `
  import { createReadStream } from 'node:fs';
  import { pathToFileURL } from 'node:url';
  const { decodeStream } = await import(pathToFileURL(process.argv[1] + '/dist/ingest/decode.js').href);
  let n = 0;
  for await (const r of decodeStream(createReadStream(process.argv[2], { highWaterMark: 1 << 20 }), { format: 'auto' })) if ('value' in r) n++;
  process.stderr.write('replayguard scan: {"events_accepted":' + n + '}\\n');
`;

async function scan(file: string, decodeOnly = false): Promise<{ seconds: number; peakMb: number | undefined; summary: string }> {
  const started = process.hrtime.bigint();
  const args = decodeOnly ? ['--input-type=module', '-e', DECODE_ONLY, process.cwd(), file] : [BIN, 'scan', file];
  const child = spawn('node', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RG_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak: number | undefined;
  // VmHWM is the process's own high-water mark, so sampling only has to catch it before exit.
  const timer = setInterval(() => {
    const kb = vmHwmKb(child.pid!);
    if (kb !== undefined) peak = Math.max(peak ?? 0, kb);
  }, 50);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  if (code !== 0) throw new Error(`scan exited ${code}: ${stderr.slice(-2000)}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = /replayguard scan: (\{.*\})/.exec(stderr)?.[1] ?? '';
  return { seconds, peakMb: peak === undefined ? undefined : peak / 1024, summary };
}

const rows: string[] = [];
for (const mb of [Math.max(1, Math.round(targetMb / 10)), targetMb]) {
  process.stderr.write(`generating ~${mb} MB...\n`);
  const { file, records } = await generate(mb, `rg-bench-scan-${mb}mb`);
  const bytes = statSync(file).size;
  process.stderr.write(`scanning ${file} (${(bytes / 1048576).toFixed(1)} MB on disk, ${records} records)...\n`);
  for (const decodeOnly of [true, false]) {
    const r = await scan(file, decodeOnly);
    const accepted = Number(/"events_accepted":(\d+)/.exec(r.summary)?.[1] ?? 0);
    if (accepted !== records) throw new Error(`expected ${records} events accepted, got ${accepted}: ${r.summary}`);
    rows.push(
      `${decodeOnly ? 'decode only' : 'full scan  '}  ${String(mb).padStart(5)} MB  ${String(records).padStart(9)} records  ${r.seconds.toFixed(1).padStart(6)} s  ` +
        `${Math.round(records / r.seconds).toString().padStart(8)} records/s  peak RSS ${r.peakMb === undefined ? 'n/a (no /proc)' : `${r.peakMb.toFixed(0)} MB`}`,
    );
  }
  if (!values.keep) rmSync(file);
}
process.stdout.write(
  `replayguard scan, ${values.array ? 'JSON array' : 'NDJSON'}${values.gzip ? ' (gzip)' : ''}, ${sessions} sessions, node ${process.version}\n${rows.join('\n')}\n`,
);
