// `replayguard tail [--format F] FILE`: follows a growing log file like `tail -F` and ships its new lines to the
// service (`POST /v1/events?format=F`) in batches.
//
// Following. The file is polled by path and by the open descriptor: a different inode (or device) at the path is a
// rotation by rename: the old file is read to its end through the descriptor still open, then the new file from its
// start; a size below the read position is a truncation (copytruncate): reading restarts at 0. Lines a writer adds
// between the last read and a truncation are gone before we can see them (copytruncate's own, documented race);
// rename rotation loses nothing. No offset is saved across runs: a new run starts at the end of the file, or at its
// start with --from-start.
//
// Delivery. Lines are sent as they are (the service decodes and converts them with the same code as `scan`), gzip'd.
// 429 and 503 are retried after Retry-After, other failures with exponential backoff, for as long as it takes:
// reading pauses meanwhile, so nothing piles up in memory. A line the service rejects is printed on stderr with its
// file, line number and reason; a line too large for the service is printed the same way. Nothing is dropped silently.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { AnyAdapterOptions } from '../events/adapters/index.js';
import { recordsOfLine, type InputFormat } from '../ingest/decode.js';
import { LineSplitter } from '../ingest/lines.js';
import { adapterOptionsFromFlags, formatFromFlag, INPUT_FLAGS, UsageError } from '../ingest/options.js';

export const TAIL_USAGE = `  replayguard tail [options] FILE         follow a growing log file (survives rotation) into the service API
      --url URL            service base URL (default http://127.0.0.1:$PORT or :7420); token from $RG_API_TOKEN
      --from-start         send the lines already in the file too (default: only new lines)
      --batch N            lines per request (default 500)
      --poll-ms N          how often to look for new lines and rotation (default 250)
      --no-gzip            send request bodies uncompressed
      --format NAME        as for scan, default auto; and scan's adapter options (--session-cookie, --tenant, ...)
`;

export interface TailOptions {
  file: string;
  /** service base URL, e.g. http://127.0.0.1:7420 */
  url: string;
  token?: string;
  format?: InputFormat;
  adapterOptions?: AnyAdapterOptions;
  fromStart?: boolean;
  pollMs?: number;
  batchLines?: number;
  batchBytes?: number;
  gzip?: boolean;
  /** longest wait between retries when the service gives no Retry-After */
  maxBackoffMs?: number;
  /** how long a rotated-away file is still read after it last grew */
  rotateDrainMs?: number;
  /** lines longer than this are reported as too large rather than held */
  maxLineChars?: number;
  stderr?: Writable;
}

export interface TailStats {
  lines: number;
  requests: number;
  accepted: number;
  rejected: number;
  retries: number;
  /** lines given up on because the tail was stopped during an outage (each range printed on stderr) */
  unsent: number;
  rotations: number;
  truncations: number;
}

export interface TailHandle {
  readonly stats: TailStats;
  /** resolves once the file has been opened (or found missing) and the start position fixed */
  readonly ready: Promise<void>;
  /** resolves when the tail has stopped; rejects on a fatal error (bad token, unreadable file) */
  readonly done: Promise<TailStats>;
  /** sends what has been read, then stops following */
  stop(): Promise<TailStats>;
}

interface PendingLine {
  text: string;
  line: number;
  /** how many records the service will count for this line (a line may hold an envelope of several) */
  records: number;
}

interface Tracked {
  fh: FileHandle;
  ino: number;
  dev: number;
  pos: number;
  text: StringDecoder;
  lines: LineSplitter;
  /** bytes of a partial line to skip when starting at the end of a file in the middle of a line */
  skipPartial: boolean;
}

class FatalError extends Error {}

const READ_CHUNK = 64 * 1024;

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function startTail(opts: TailOptions): TailHandle {
  const format = opts.format ?? 'auto';
  const stderr = opts.stderr ?? process.stderr;
  const pollMs = opts.pollMs ?? 250;
  const batchLines = opts.batchLines ?? 500;
  const batchBytes = opts.batchBytes ?? 1024 * 1024;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const maxLine = opts.maxLineChars ?? 8 * 1024 * 1024;
  const gzip = opts.gzip ?? true;
  const drainMs = opts.rotateDrainMs ?? Math.max(2000, pollMs * 8);
  const stats: TailStats = { lines: 0, requests: 0, accepted: 0, rejected: 0, retries: 0, unsent: 0, rotations: 0, truncations: 0 };
  // Relative to the base, so a service behind a path prefix (https://host/replayguard/) is reached under it.
  const endpoint = new URL('v1/events', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
  endpoint.searchParams.set('format', format);
  const a = opts.adapterOptions ?? {};
  if (a.defaultTenant !== undefined) endpoint.searchParams.set('tenant', a.defaultTenant);
  if (a.sessionCookie !== undefined) endpoint.searchParams.set('session_cookie', a.sessionCookie);
  if (a.sessionHeader !== undefined) endpoint.searchParams.set('session_header', a.sessionHeader);
  if (a.sessionField !== undefined) endpoint.searchParams.set('session_field', a.sessionField);
  if (a.extraFields !== undefined) endpoint.searchParams.set('extra_fields', a.extraFields.join(','));
  if (a.logoutPaths !== undefined) endpoint.searchParams.set('logout_paths', a.logoutPaths.join(','));
  if (a.session !== undefined) endpoint.searchParams.set('okta_session', a.session);
  const contentType = format === 'accesslog' || format === 'auto' ? 'text/plain; charset=utf-8' : 'application/x-ndjson';

  let stopping = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  let pending: PendingLine[] = [];
  let pendingBytes = 0;

  const report = (line: number, code: string, message: string): void => {
    stats.rejected++;
    stderr.write(`${opts.file}:${line}: rejected (${code}): ${message}\n`);
  };

  /** One request, retried until the service has answered for every line in it. */
  async function send(lines: PendingLine[]): Promise<void> {
    if (lines.length === 0) return;
    const raw = Buffer.from(lines.map((l) => l.text).join('\n') + '\n', 'utf8');
    const body = gzip ? gzipSync(raw) : raw;
    const headers: Record<string, string> = { 'content-type': contentType };
    if (gzip) headers['content-encoding'] = 'gzip';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let backoff = 500;
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure = '';
      try {
        stats.requests++;
        res = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        failure = (err as Error).message;
      }
      if (res && res.status === 202) {
        let answer: { accepted: number; rejected: { index: number; code: string; message: string }[] };
        try {
          answer = (await res.json()) as typeof answer;
          if (typeof answer.accepted !== 'number' || !Array.isArray(answer.rejected)) throw new Error('unexpected answer');
        } catch (err) {
          // Taken (202) but unreadable, e.g. a proxy's page: the lines are not re-sent, and we say so.
          stderr.write(`${opts.file}:${lines[0]!.line}-${lines[lines.length - 1]!.line}: accepted (HTTP 202) with an unreadable answer: ${(err as Error).message}\n`);
          return;
        }
        stats.accepted += answer.accepted;
        // Rejections name record indexes; walk the lines' record counts back to file line numbers.
        const lineOf: number[] = [];
        for (const l of lines) for (let i = 0; i < l.records; i++) lineOf.push(l.line);
        for (const r of answer.rejected) report(lineOf[r.index] ?? lines[lines.length - 1]!.line, r.code, r.message);
        return;
      }
      if (res && res.status === 413) {
        await res.body?.cancel();
        if (lines.length > 1) {
          const half = Math.ceil(lines.length / 2);
          await send(lines.slice(0, half));
          await send(lines.slice(half));
          return;
        }
        report(lines[0]!.line, 'too_large', 'the line is larger than the service accepts in one request (RG_MAX_BODY_BYTES / RG_MAX_EVENTS_PER_REQUEST)');
        return;
      }
      if (res && (res.status === 401 || res.status === 403)) {
        await res.body?.cancel();
        stats.unsent += lines.length;
        stderr.write(`${opts.file}:${lines[0]!.line}-${lines[lines.length - 1]!.line}: not sent (HTTP ${res.status})\n`);
        throw new FatalError(`the service refused the token (HTTP ${res.status}); set RG_API_TOKEN to one of its RG_API_TOKENS`);
      }
      if (res && res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
        // The request as a whole was refused for a reason retrying cannot fix: every line in it is reported.
        const text = await res.text();
        let code = `http_${res.status}`;
        let message = text.slice(0, 300);
        try {
          const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
          if (e?.code) code = e.code;
          if (e?.message) message = e.message;
        } catch {
          // not our error format; the raw text is the message
        }
        for (const l of lines) report(l.line, code, message);
        return;
      }
      // 429, 503, other 5xx, timeouts, connection refused: the lines are kept and sent again.
      let wait = backoff;
      if (res) {
        wait = retryAfterMs(res.headers.get('retry-after')) ?? backoff;
        failure = `HTTP ${res.status}`;
        await res.body?.cancel();
      }
      if (stopping && attempt > 0) {
        // Asked to stop while the service is away: say exactly which lines did not make it.
        stats.unsent += lines.length;
        stderr.write(`${opts.file}:${lines[0]!.line}-${lines[lines.length - 1]!.line}: not sent (${failure}; stopped before the service came back)\n`);
        return;
      }
      backoff = Math.min(backoff * 2, maxBackoff);
      stats.retries++;
      if (attempt === 0 || attempt % 10 === 0) {
        stderr.write(`replayguard tail: ${failure}; ${lines.length} lines kept, retrying in ${Math.round(wait / 100) / 10} s\n`);
      }
      await sleep(wait);
    }
  }

  async function flush(): Promise<void> {
    const lines = pending;
    pending = [];
    pendingBytes = 0;
    for (let i = 0; i < lines.length; i += batchLines) await send(lines.slice(i, i + batchLines));
  }

  async function addLine(text: string, line: number): Promise<void> {
    if (text.trim() === '') return;
    stats.lines++;
    pending.push({ text, line, records: recordsOfLine(text, format).length });
    pendingBytes += text.length + 1;
    if (pending.length >= batchLines || pendingBytes >= batchBytes) await flush();
  }

  async function takeLines(t: Tracked, chunk: string): Promise<void> {
    for (const l of t.lines.push(chunk)) {
      if (t.skipPartial) {
        t.skipPartial = false;
        continue;
      }
      if ('tooLarge' in l) report(l.line, 'too_large', `line of ${l.length} characters is over the limit of ${maxLine}`);
      else await addLine(l.text, l.line);
    }
  }

  /** The rest of a file's text: its last line, complete even without a newline once the file is left behind. */
  async function finishFile(t: Tracked): Promise<void> {
    await takeLines(t, t.text.end());
    for (const l of t.lines.end()) {
      if ('tooLarge' in l) report(l.line, 'too_large', `line of ${l.length} characters is over the limit of ${maxLine}`);
      else await addLine(l.text, l.line);
    }
  }

  /** Reads from the position to the current end of file; returns whether anything was read. */
  async function readAvailable(t: Tracked): Promise<boolean> {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let any = false;
    for (;;) {
      const { bytesRead } = await t.fh.read(buf, 0, READ_CHUNK, t.pos);
      if (bytesRead === 0) return any;
      any = true;
      t.pos += bytesRead;
      await takeLines(t, t.text.write(buf.subarray(0, bytesRead)));
    }
  }

  async function openTracked(fromStart: boolean): Promise<Tracked | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(opts.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const st = await fh.stat();
    const t: Tracked = { fh, ino: st.ino, dev: st.dev, pos: 0, text: new StringDecoder('utf8'), lines: new LineSplitter(maxLine), skipPartial: false };
    if (!fromStart && st.size > 0) {
      // Start at the end; if that is inside a line, the rest of that line is not a line of ours.
      t.pos = st.size;
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, st.size - 1);
      t.skipPartial = last[0] !== 0x0a;
    }
    return t;
  }

  async function run(): Promise<TailStats> {
    let cur: Tracked | undefined;
    /** rotated-away files, still read while their writer may not have reopened yet */
    let draining: { t: Tracked; idleSince: number }[] = [];
    let fromStart = opts.fromStart ?? false;
    try {
      while (!stopping) {
        let read = false;
        for (const d of draining) {
          if (await readAvailable(d.t)) {
            read = true;
            d.idleSince = Date.now();
          }
        }
        const idle = draining.filter((d) => Date.now() - d.idleSince >= drainMs);
        for (const d of idle) {
          await finishFile(d.t);
          await d.t.fh.close();
        }
        draining = draining.filter((d) => !idle.includes(d));

        if (!cur) {
          // The path may not exist yet (or between a rename and the new file): wait for it, like tail -F. A file
          // that appears after we started is new, so all of it is read.
          cur = await openTracked(fromStart);
          fromStart = true;
          markReady();
          if (!cur) {
            await flush();
            await sleep(pollMs);
            continue;
          }
        }
        if (await readAvailable(cur)) read = true;
        let now: Awaited<ReturnType<typeof stat>> | undefined;
        try {
          now = await stat(opts.file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        if (now && (now.ino !== cur.ino || now.dev !== cur.dev)) {
          // Rotated by rename. The old file stays open and is read until it has been quiet for a while: a writer
          // that has not reopened yet still appends there, and those lines are ours too.
          await readAvailable(cur);
          draining.push({ t: cur, idleSince: Date.now() });
          cur = undefined;
          stats.rotations++;
          continue;
        }
        const size = (await cur.fh.stat()).size;
        if (size < cur.pos) {
          await finishFile(cur);
          cur.pos = 0;
          cur.text = new StringDecoder('utf8');
          cur.lines = new LineSplitter(maxLine);
          cur.skipPartial = false;
          stats.truncations++;
          stderr.write(`replayguard tail: ${opts.file} was truncated; reading it again from the start\n`);
          continue;
        }
        await flush();
        if (!read) await sleep(pollMs);
      }
      for (const d of draining) {
        await readAvailable(d.t);
        await finishFile(d.t);
      }
      if (cur) {
        await readAvailable(cur);
        if (cur.lines.pending) stderr.write(`replayguard tail: stopped with an unfinished last line in ${opts.file} (no newline yet); not sent\n`);
      }
      await flush();
      return stats;
    } finally {
      markReady();
      for (const d of draining) await d.t.fh.close().catch(() => undefined);
      await cur?.fh.close().catch(() => undefined);
    }
  }

  const done = run();
  done.catch(() => undefined);
  return {
    stats,
    ready,
    done,
    async stop() {
      stopping = true;
      wake?.();
      return done;
    },
  };
}

/** `replayguard tail ...` from the command line; runs until SIGINT/SIGTERM. */
export async function runTailCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...INPUT_FLAGS,
      url: { type: 'string' },
      'from-start': { type: 'boolean', default: false },
      batch: { type: 'string' },
      'poll-ms': { type: 'string' },
      'no-gzip': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`tail follows exactly one FILE\nusage:\n${TAIL_USAGE}`);
  const token = env.RG_API_TOKEN;
  if (!token) throw new UsageError('set RG_API_TOKEN to an API token of the service (one of its RG_API_TOKENS)');
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
    return n;
  };
  const batch = int(values.batch, 'batch');
  const poll = int(values['poll-ms'], 'poll-ms');
  const handle = startTail({
    file: positionals[0]!,
    url: values.url ?? `http://127.0.0.1:${env.PORT ?? '7420'}`,
    token,
    format: formatFromFlag(values.format, 'auto'),
    adapterOptions: adapterOptionsFromFlags(values),
    fromStart: values['from-start'] ?? false,
    gzip: !values['no-gzip'],
    ...(batch !== undefined ? { batchLines: batch } : {}),
    ...(poll !== undefined ? { pollMs: poll } : {}),
  });
  const onSignal = (): void => void handle.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stats = await handle.done;
  process.stderr.write(`replayguard tail: ${JSON.stringify(stats)}\n`);
  return stats.unsent > 0 ? 1 : 0;
}
