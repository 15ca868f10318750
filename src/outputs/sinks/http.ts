// HTTP sinks: Splunk HEC, Elasticsearch _bulk and a generic JSON POST, over node:http/https. Not fetch: Node 20's
// fetch cannot take a per-sink CA or client certificate without the undici package, and we need both.
//
// Each receiver says "delivered" differently, and getting that wrong loses incidents quietly:
// - HEC: HTTP 200 with code 0; with indexer acknowledgement, only once the ack id polls true.
// - _bulk: HTTP 200 is not success; every item carries its own status (reference §7).
// - JSON: any 2xx.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BulkSinkConfig, HecSinkConfig, JsonSinkConfig, TlsSettings } from '../config.js';
import { hecBatch } from '../formatters/index.js';
import { bulkBody } from '../formatters/bulk.js';
import { allWith, delivered, errorText, type SendResult, type Sink } from './types.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export class HttpTransport {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly url: URL;

  constructor(url: string, tls: TlsSettings | undefined, private readonly timeoutMs: number) {
    this.url = new URL(url);
    this.agent = this.url.protocol === 'https:'
      ? new HttpsAgent({
        keepAlive: true,
        maxSockets: 8,
        rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        minVersion: 'TLSv1.2',
        ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
        ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
        ...(tls?.key !== undefined ? { key: tls.key } : {}),
        ...(tls?.servername !== undefined ? { servername: tls.servername } : {}),
      })
      : new HttpAgent({ keepAlive: true, maxSockets: 8 });
  }

  request(method: string, headers: Record<string, string>, body: string | Buffer, url: URL = this.url): Promise<HttpResponse> {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, agent: this.agent, headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const v = headers['retry-after'];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function snippet(body: string): string {
  return body.length > 300 ? body.slice(0, 300) + '…' : body;
}

/** A whole-request failure: retry on 408/425/429/5xx, dead-letter on other statuses. */
function requestFailure(n: number, res: HttpResponse, what: string): SendResult[] {
  const error = `${what}: HTTP ${res.status} ${snippet(res.body)}`.trim();
  if (retryable(res.status)) {
    const after = retryAfterMs(res.headers);
    return allWith(n, after !== undefined ? { status: 'retry', error, retryAfterMs: after } : { status: 'retry', error });
  }
  // 413 on a batch says nothing about any one record: send them again (the batcher fills batches anew).
  if (res.status === 413 && n > 1) return allWith(n, { status: 'retry', error });
  return allWith(n, { status: 'dead', error });
}

// ---------------------------------------------------------------------------------------------------------
// Splunk HEC

/** HEC codes tied to one event of the batch (the response names it with invalid-event-number). */
const HEC_EVENT_CODES = new Set([6, 12, 13, 15]);
/** Internal error and server busy: the only codes worth retrying (reference §5.6). */
const HEC_RETRY_CODES = new Set([8, 9]);

export class HecSink implements Sink {
  private readonly http: HttpTransport;
  private readonly ackUrl: URL;

  constructor(readonly config: HecSinkConfig) {
    this.http = new HttpTransport(config.url, config.tls, config.timeoutMs);
    this.ackUrl = new URL(config.url);
    // Keep any prefix a proxy puts before /services/collector (e.g. /splunk/services/collector/event).
    const at = this.ackUrl.pathname.indexOf('/services/collector');
    this.ackUrl.pathname = (at > 0 ? this.ackUrl.pathname.slice(0, at) : '') + '/services/collector/ack';
    this.ackUrl.search = '';
    this.ackUrl.searchParams.set('channel', config.channel);
  }

  private headers(): Record<string, string> {
    return {
      // "Splunk <token>", never Bearer (reference §5.6). The channel goes on every request: Splunk needs it when
      // the token has acknowledgement on, and it is harmless otherwise.
      authorization: `Splunk ${this.config.token.reveal()}`,
      'x-splunk-request-channel': this.config.channel,
      'content-type': 'application/json',
    };
  }

  async send(records: readonly string[]): Promise<SendResult[]> {
    const n = records.length;
    let res: HttpResponse;
    try {
      res = await this.http.request('POST', this.headers(), hecBatch(records));
    } catch (err) {
      return allWith(n, { status: 'retry', error: `HEC: ${errorText(err)}` });
    }
    const body = parseJson(res.body) as { code?: unknown; text?: unknown; ackId?: unknown; 'invalid-event-number'?: unknown } | undefined;
    const code = typeof body?.code === 'number' ? body.code : undefined;
    if (res.status === 200 && (code === undefined || code === 0)) {
      if (this.config.ack && typeof body?.ackId === 'number') return this.awaitAck(n, body.ackId);
      return allWith(n, delivered);
    }
    const error = `HEC: HTTP ${res.status}${code !== undefined ? ` code ${code}` : ''} ${typeof body?.text === 'string' ? body.text : snippet(res.body)}`.trim();
    if ((code !== undefined && HEC_RETRY_CODES.has(code)) || res.status >= 500 || res.status === 429 || res.status === 408) {
      const after = retryAfterMs(res.headers);
      return allWith(n, after !== undefined ? { status: 'retry', error, retryAfterMs: after } : { status: 'retry', error });
    }
    const bad = body?.['invalid-event-number'];
    if (code !== undefined && HEC_EVENT_CODES.has(code) && typeof bad === 'number' && bad >= 0 && bad < n && n > 1) {
      // Only the named event is refused. Whether Splunk kept the ones before it is not documented, so all the
      // others are sent again: a possible duplicate (same incident id) beats a possible loss.
      return records.map((_, i) => (i === bad ? { status: 'dead', error } : { status: 'retry', error: `HEC refused event ${bad} of the batch (${error})` }));
    }
    if (code === undefined && res.status === 413 && n > 1) return allWith(n, { status: 'retry', error });
    // Token, index, channel and format errors are configuration problems: retrying cannot fix them; re-drive
    // the dead letters once the configuration is right.
    return allWith(n, { status: 'dead', error });
  }

  /**
   * With indexer acknowledgement, HTTP 200 only means "received": the batch counts as delivered when its ack id
   * polls true. `false` means pending or lost, so after the timeout the batch is sent again (at-least-once).
   */
  private async awaitAck(n: number, ackId: number): Promise<SendResult[]> {
    const ack = this.config.ack!;
    const deadline = Date.now() + ack.timeoutMs;
    let lastError = 'not acknowledged';
    while (Date.now() < deadline) {
      await sleep(Math.min(ack.pollIntervalMs, Math.max(0, deadline - Date.now())));
      try {
        const res = await this.http.request('POST', this.headers(), JSON.stringify({ acks: [ackId] }), this.ackUrl);
        const body = parseJson(res.body) as { acks?: Record<string, unknown> } | undefined;
        if (res.status === 200 && body?.acks?.[String(ackId)] === true) return allWith(n, { status: 'delivered', note: `ack ${ackId}` });
        if (res.status !== 200) lastError = `ack poll: HTTP ${res.status} ${snippet(res.body)}`;
      } catch (err) {
        lastError = `ack poll: ${errorText(err)}`;
      }
    }
    return allWith(n, { status: 'retry', error: `HEC ack ${ackId} not confirmed within ${ack.timeoutMs} ms (${lastError})` });
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Elasticsearch _bulk

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

function bulkAction(record: string): string {
  const nl = record.indexOf('\n');
  const first = parseJson(nl < 0 ? record : record.slice(0, nl));
  return first && typeof first === 'object' ? Object.keys(first)[0] ?? '' : '';
}

export class BulkSink implements Sink {
  private readonly http: HttpTransport;

  constructor(readonly config: BulkSinkConfig) {
    this.http = new HttpTransport(config.url, config.tls, config.timeoutMs);
  }

  async send(records: readonly string[]): Promise<SendResult[]> {
    const n = records.length;
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.config.authorization) headers.authorization = this.config.authorization.reveal();
    let res: HttpResponse;
    try {
      res = await this.http.request('POST', headers, bulkBody(records));
    } catch (err) {
      return allWith(n, { status: 'retry', error: `_bulk: ${errorText(err)}` });
    }
    if (res.status !== 200) return requestFailure(n, res, '_bulk');
    const body = parseJson(res.body) as { errors?: unknown; items?: unknown } | undefined;
    const items = Array.isArray(body?.items) ? (body.items as Record<string, BulkItemResult>[]) : undefined;
    if (!items || items.length !== n) {
      // Without one item per action we cannot tell which records made it; sending all again is safe because
      // every record has a deterministic _id (create: a 409 next time).
      return allWith(n, { status: 'retry', error: `_bulk: answer has ${items?.length ?? 'no'} items for ${n} actions` });
    }
    return items.map((item, i) => {
      const action = Object.keys(item)[0] ?? '';
      const r = item[action] ?? {};
      const status = typeof r.status === 'number' ? r.status : 0;
      if (status >= 200 && status < 300) return delivered;
      const reason = typeof r.error === 'string' ? r.error : `${r.error?.type ?? 'error'}: ${r.error?.reason ?? ''}`.trim();
      const error = `_bulk item ${i}: ${status} ${reason}`;
      // A create that hits 409 found its own earlier delivery: the document is there.
      if (status === 409 && bulkAction(records[i] ?? '') === 'create') return { status: 'delivered', note: 'already indexed (409)' };
      if (status === 429 || status >= 500 || status === 0) return { status: 'retry', error };
      // 400 mapping errors and the like: the same document will fail the same way.
      return { status: 'dead', error };
    });
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generic JSON

export class JsonSink implements Sink {
  private readonly http: HttpTransport;

  constructor(readonly config: JsonSinkConfig) {
    this.http = new HttpTransport(config.url, config.tls, config.timeoutMs);
  }

  async send(records: readonly string[]): Promise<SendResult[]> {
    const n = records.length;
    const headers: Record<string, string> = { ...this.config.headers, 'content-type': 'application/json' };
    if (this.config.authorization) headers.authorization = this.config.authorization.reveal();
    // One object per request by default; a batch is a JSON array (records are compact JSON objects).
    const body = n === 1 ? records[0]! : `[${records.join(',')}]`;
    let res: HttpResponse;
    try {
      res = await this.http.request(this.config.method, headers, body);
    } catch (err) {
      return allWith(n, { status: 'retry', error: `POST: ${errorText(err)}` });
    }
    if (res.status >= 200 && res.status < 300) return allWith(n, delivered);
    return requestFailure(n, res, this.config.method);
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
