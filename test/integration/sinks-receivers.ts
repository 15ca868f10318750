// Receivers for the sink tests, started on 127.0.0.1 free ports, and parsers written from the specs (RFC 6587
// octet counting, RFC 5424, HEC's concatenated-object batches, _bulk NDJSON) without importing src/, so a
// delivery is checked against the format rather than against our own formatter.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Incident } from '../../src/incidents/model.js';

// ---------------------------------------------------------------------------------------------------------
// Incidents

export function makeIncident(i: number, overrides: Partial<Incident> = {}): Incident {
  const t = new Date(Date.UTC(2026, 10, 23, 12, 0, i)).toISOString();
  return {
    id: `inc_${String(i).padStart(24, '0')}`,
    dedup_key: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    rule: { id: 'session-multi-network-multi-device', title: 'Session used from two networks and two devices', version: 1 },
    severity: 'high',
    mitre: ['T1539', 'T1550.004'],
    status: 'open',
    session: '9f2c8d1e5b7a4f3c9f2c8d1e5b7a4f3c',
    user: 'alice@example.com',
    tenant: 'acme',
    first_seen: t,
    last_seen: t,
    count: 1,
    suppressed: 0,
    action: 'alert',
    monitor: false,
    event_ids: [`ev-${i}`],
    evidence: {
      reason: `Session replayed from RU (198.51.100.23) — incident ${i} | a=b \\ "q" ]`,
      fields: {},
      ips: ['203.0.113.7', '198.51.100.23'],
      user_agents: ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
    },
    created_at: t,
    updated_at: t,
    ...overrides,
  } as Incident;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void;

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startHttpReceiver(handler: Handler, port = 0): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const receiver = { requests, handler } as HttpReceiver;
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      receiver.handler(r, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  receiver.port = typeof address === 'object' && address ? address.port : port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * HEC batches are JSON objects back to back, optionally separated by whitespace (reference §5.2). Splits them by
 * tracking depth outside strings, then parses each one.
 */
export function parseHecBatch(body: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(JSON.parse(body.slice(start, i + 1)) as Record<string, unknown>);
    } else if (depth === 0 && !/\s/.test(c ?? '')) {
      throw new Error(`unexpected ${JSON.stringify(c)} between HEC events at ${i}`);
    }
  }
  if (depth !== 0 || inString) throw new Error('unterminated HEC event');
  return out;
}

/** _bulk body: action line + source line per item, every line LF-terminated (the last one too). */
export function parseBulkBody(body: string): Array<{ action: string; meta: Record<string, unknown>; doc: Record<string, unknown> }> {
  if (!body.endsWith('\n')) throw new Error('bulk body must end with LF');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length % 2 !== 0) throw new Error('bulk body must have an even number of lines (create/index + source)');
  const out = [];
  for (let i = 0; i < lines.length; i += 2) {
    const actionLine = JSON.parse(lines[i]!) as Record<string, Record<string, unknown>>;
    const action = Object.keys(actionLine)[0]!;
    out.push({ action, meta: actionLine[action]!, doc: JSON.parse(lines[i + 1]!) as Record<string, unknown> });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Syslog

/** RFC 6587 §3.4.1 de-framer: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in octets, no leading zero. */
export class OctetDeframer {
  private buf = Buffer.alloc(0);
  readonly messages: Buffer[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const sp = this.buf.indexOf(0x20);
      if (sp < 0) return;
      const len = this.buf.subarray(0, sp).toString('latin1');
      if (!/^[1-9][0-9]*$/.test(len)) throw new Error(`bad MSG-LEN ${JSON.stringify(len)}`);
      const n = Number(len);
      if (this.buf.length < sp + 1 + n) return;
      this.messages.push(this.buf.subarray(sp + 1, sp + 1 + n));
      this.buf = this.buf.subarray(sp + 1 + n);
    }
  }

  get rest(): number {
    return this.buf.length;
  }
}

export interface Syslog5424 {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Array<{ id: string; params: Array<[string, string]> }>;
  bom: boolean;
  msg: string;
}

/** RFC 5424 §6 parser: header tokens, SD with `\"`, `\\`, `\]` escapes, MSG with optional BOM. */
export function parse5424(raw: Buffer): Syslog5424 {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const text = raw.toString('latin1');
  const m = /^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!m) throw new Error(`not an RFC 5424 header: ${JSON.stringify(text.slice(0, 80))}`);
  let i = m[0].length;
  const sd: Syslog5424['sd'] = [];
  if (text[i] === '-') i++;
  else {
    while (text[i] === '[') {
      i++;
      let id = '';
      while (text[i] !== ' ' && text[i] !== ']') id += text[i++];
      const params: Array<[string, string]> = [];
      while (text[i] === ' ') {
        i++;
        let name = '';
        while (text[i] !== '=') name += text[i++];
        i += 2; // ="
        const bytes: number[] = [];
        while (raw[i] !== 0x22) {
          if (raw[i] === 0x5c && (raw[i + 1] === 0x22 || raw[i + 1] === 0x5c || raw[i + 1] === 0x5d)) i++;
          if (i >= raw.length) throw new Error('unterminated PARAM-VALUE');
          bytes.push(raw[i++]!);
        }
        i++;
        params.push([name, Buffer.from(bytes).toString('utf8')]);
      }
      if (text[i] !== ']') throw new Error(`SD-ELEMENT not closed at ${i}`);
      i++;
      sd.push({ id, params });
    }
  }
  let msgBuf = raw.subarray(i);
  if (msgBuf.length > 0) {
    if (msgBuf[0] !== 0x20) throw new Error('no SP before MSG');
    msgBuf = msgBuf.subarray(1);
  }
  const bom = msgBuf.subarray(0, 3).equals(BOM);
  return {
    pri: Number(m[1]), version: Number(m[2]), timestamp: m[3]!, hostname: m[4]!, appName: m[5]!, procId: m[6]!, msgId: m[7]!,
    sd, bom, msg: (bom ? msgBuf.subarray(3) : msgBuf).toString('utf8'),
  };
}

export interface StreamReceiver {
  port: number;
  messages: Buffer[];
  sockets: Set<Socket>;
  /** drop every open connection (the sender must reconnect) */
  dropConnections(): void;
  close(): Promise<void>;
}

function attachDeframer(socket: Socket, messages: Buffer[], sockets: Set<Socket>): void {
  sockets.add(socket);
  const d = new OctetDeframer();
  socket.on('data', (c: Buffer) => {
    d.push(c);
    messages.push(...d.messages.splice(0));
  });
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
}

async function listen(server: NetServer, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const a = server.address();
  return typeof a === 'object' && a ? a.port : port;
}

function streamReceiver(server: NetServer, port: number, messages: Buffer[], sockets: Set<Socket>): StreamReceiver {
  return {
    port, messages, sockets,
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startTcpSyslogReceiver(port = 0): Promise<StreamReceiver> {
  const messages: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => attachDeframer(s, messages, sockets));
  return streamReceiver(server, await listen(server, port), messages, sockets);
}

export async function startTlsSyslogReceiver(key: string, cert: string, port = 0): Promise<StreamReceiver> {
  const messages: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert, minVersion: 'TLSv1.2' }, (s) => attachDeframer(s, messages, sockets));
  return streamReceiver(server, await listen(server, port), messages, sockets);
}

export interface UdpReceiver {
  port: number;
  datagrams: Buffer[];
  close(): Promise<void>;
}

export async function startUdpReceiver(): Promise<UdpReceiver> {
  const datagrams: Buffer[] = [];
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (m) => datagrams.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, datagrams, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------------------------
// TLS material

export const OPENSSL = '/usr/bin/openssl';

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl; undefined when openssl is absent. */
export function selfSignedCert(): { key: string; cert: string; dir: string } | undefined {
  if (!existsSync(OPENSSL)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'rg-tls-'));
  execFileSync(OPENSSL, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), dir };
}

// ---------------------------------------------------------------------------------------------------------

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}
