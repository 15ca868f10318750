// `replayguard tail` against a real embedded service: lines appended, a rename rotation (with the writer still
// appending to the old file for a moment), a copytruncate, bad lines; every line must arrive exactly once.
// Then retry behaviour against a stub that sheds load, and the installed command end to end.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import { startTail } from '../../src/cli/tail.js';

const TOKEN = 'tail-test-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'rg-tail-'));
let service: RunningService;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** One canonical event per line, each with its own id and session, so a duplicate would show as one. */
const line = (n: number) =>
  JSON.stringify({ id: `t-${n}`, time: Date.UTC(2026, 10, 23, 9, 0, n), type: 'request', session_id: `tail-s-${n}`, ip: '203.0.113.7', user_agent: 'curl/8.0' }) + '\n';
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}
const received = () => metric(/rg_events_received_total\{source="http"\} (\d+)/);

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  service = await startService(
    { api: true, worker: true, env: { PORT: '0', RG_API_TOKENS: TOKEN, RG_SESSION_KEY: 'tail-session-key-0123456789abcdef0123', RG_LOG_LEVEL: 'silent' } },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await service?.close();
});

describe('tail into the service', () => {
  it('follows appends, a rename rotation and a truncation: every line exactly once, bad lines reported', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(1, 10));
    const stderr = new Capture();
    const tail = startTail({ file, url: service.url!, token: TOKEN, format: 'canonical', fromStart: true, pollMs: 20, rotateDrainMs: 1000, stderr });
    await tail.ready;

    // Appends, one line split across two writes.
    appendFileSync(file, lines(11, 15));
    const l16 = line(16);
    appendFileSync(file, l16.slice(0, 20));
    await sleep(60);
    appendFileSync(file, l16.slice(20) + lines(17, 20));
    await until('20 lines', async () => (await received()) === 20);

    // Rotation by rename; the writer appends to the old file before it reopens the path.
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, lines(21, 25));
    writeFileSync(file, lines(26, 30));
    await sleep(100);
    appendFileSync(`${file}.1`, lines(31, 32)); // still within the drain period
    appendFileSync(file, lines(33, 35));
    await until('35 lines', async () => (await received()) === 35);

    // copytruncate: the file is emptied in place and written again from the start.
    truncateSync(file, 0);
    appendFileSync(file, lines(36, 40));
    await until('40 lines', async () => (await received()) === 40);

    // A broken line and an invalid event are refused by the service and named on stderr.
    appendFileSync(file, '{"broken":\n' + JSON.stringify({ time: '2026-11-23T09:00:00Z', type: 'request', session_id: 'x', ip: '999.1.1.1' }) + '\n' + line(41));
    await until('43 lines', async () => (await received()) === 43);

    const stats = await tail.stop();
    expect(stats).toMatchObject({ lines: 43, accepted: 41, rejected: 2, rotations: 1, truncations: 1, unsent: 0 });
    expect(stderr.text).toMatch(/app\.log:6: rejected \(invalid_json\): not JSON/);
    expect(stderr.text).toMatch(/app\.log:7: rejected \(invalid_ip\): ip/);
    expect(stderr.text).toContain('was truncated');
    // Exactly once: 41 distinct events processed, none of them a re-delivery.
    await until('processing', async () => (await metric(/rg_events_processed_total (\d+)/)) === 41);
    expect(await metric(/rg_events_duplicate_total (\d+)/)).toBe(0);
    expect(await received()).toBe(43);
  });

  it('starts at the end of an existing file unless told otherwise, and waits for a file that does not exist yet', async () => {
    const before = await received();
    const file = join(dir, 'late.log');
    writeFileSync(file, lines(100, 104) + line(105).slice(0, 10)); // ends inside a line: not ours either
    const tail = startTail({ file, url: service.url!, token: TOKEN, format: 'canonical', pollMs: 20, stderr: new Capture() });
    await tail.ready;
    appendFileSync(file, line(105).slice(10) + lines(106, 107));
    await until('2 new lines', async () => (await received()) === before + 2);

    const missing = join(dir, 'not-yet.log');
    const tail2 = startTail({ file: missing, url: service.url!, token: TOKEN, format: 'canonical', pollMs: 20, stderr: new Capture() });
    await tail2.ready;
    writeFileSync(missing, lines(200, 202));
    await until('the new file, from its start', async () => (await received()) === before + 5);
    expect((await tail.stop()).lines).toBe(2);
    expect((await tail2.stop()).lines).toBe(3);
  });
});

describe('tail retries', () => {
  let stub: Server;
  let url: string;
  const answers: number[] = [];
  const bodies: string[] = [];
  const arrivals: number[] = [];

  beforeAll(async () => {
    stub = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        arrivals.push(Date.now());
        const status = answers.shift() ?? 202;
        if (status !== 202) {
          res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 || status === 503 ? { 'retry-after': '1' } : {}) });
          res.end(JSON.stringify({ error: { code: status === 429 ? 'QUEUE_FULL' : 'STORE_UNAVAILABLE', message: 'busy' } }));
          return;
        }
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)).toString() : Buffer.concat(chunks).toString();
        bodies.push(`${req.url} ${req.headers['content-type']} ${body}`);
        const n = body.split('\n').filter(Boolean).length;
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: n - 1, rejected: [{ index: 1, code: 'no_session', message: 'no sessionCookie or sessionHeader configured' }] }));
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const addr = stub.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(async () => {
    await new Promise((r) => stub.close(r));
  });

  it('keeps a batch through 503 and 429, waiting as long as Retry-After says, then maps rejections to lines', async () => {
    answers.push(503, 429);
    const file = join(dir, 'access.log');
    writeFileSync(file, '');
    const stderr = new Capture();
    const tail = startTail({
      file, url, token: 't', format: 'accesslog', adapterOptions: { sessionCookie: 'SID', defaultTenant: 'web' }, pollMs: 20, stderr,
    });
    await tail.ready;
    appendFileSync(file, 'line one\nline two\nline three\n');
    await until('delivery', () => bodies.length === 1, 10_000);
    const stats = await tail.stop();
    expect(arrivals).toHaveLength(3);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(950);
    expect(bodies[0]).toBe('/v1/events?format=accesslog&tenant=web&session_cookie=SID text/plain; charset=utf-8 line one\nline two\nline three\n');
    expect(stats).toMatchObject({ lines: 3, accepted: 2, rejected: 1, retries: 2 });
    expect(stderr.text).toContain('HTTP 503; 3 lines kept, retrying in 1 s');
    expect(stderr.text).toContain('access.log:2: rejected (no_session): no sessionCookie or sessionHeader configured');
  });
});

describe('replayguard tail (the installed command)', () => {
  it('ships access-log lines with the session cookie option and stops cleanly on SIGTERM', async () => {
    const before = await received();
    const file = join(dir, 'nginx.log');
    const access = (i: number) => `198.51.100.${i} - - [23/Nov/2026:09:00:0${i} +0000] "GET /a HTTP/1.1" 200 5 "-" "Mozilla/5.0" "SID=abc${i}"\n`;
    // --from-start: the lines are there before the process is up, however long node takes to start.
    writeFileSync(file, access(1) + access(2) + access(3));
    const child = spawn('node', [join(process.cwd(), 'bin/replayguard.js'), 'tail', '--format', 'accesslog', '--session-cookie', 'SID', '--from-start', '--url', service.url!, '--poll-ms', '20', file], {
      env: { PATH: process.env.PATH ?? '', RG_API_TOKEN: TOKEN },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until('3 access-log lines', async () => (await received()) === before + 3);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(err).toMatch(/replayguard tail: \{"lines":3,"requests":1,"accepted":3,"rejected":0/);
  });

  it('refuses to start without RG_API_TOKEN', async () => {
    const child = spawn('node', [join(process.cwd(), 'bin/replayguard.js'), 'tail', join(dir, 'x.log')], { env: { PATH: process.env.PATH ?? '' } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('set RG_API_TOKEN');
  });
});
