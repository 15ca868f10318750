// The load generator: posts generated canonical events to POST /v1/events over keep-alive HTTP, either as fast as
// the service keeps up (closed loop, with the backlog of accepted-but-unprocessed events bounded) or at a fixed
// offered rate (open loop). Every marked attack event is remembered with the time its request was sent and the
// time the API accepted it (202).
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class Poster {
  constructor(baseUrl, token, maxSockets = 16) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.token = token;
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.accepted = 0;
    this.rejected = 0;
    this.requests = 0;
    this.shed = 0;
    this.errors = 0;
    this.lastError = undefined;
  }

  /** Posts a JSON array; resolves { status, accepted, sentAt, ackAt } (epoch ms). */
  post(events) {
    const body = JSON.stringify(events);
    const sentAt = Date.now();
    return new Promise((resolve) => {
      const req = http.request({
        host: this.host, port: this.port, method: 'POST', path: '/v1/events', agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${this.token}` },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const ackAt = Date.now();
          this.requests++;
          let accepted = 0;
          if (res.statusCode === 202) {
            try {
              const j = JSON.parse(text);
              accepted = j.accepted;
              this.rejected += j.rejected?.length ?? 0;
            } catch {
              // counted as an error below
            }
            this.accepted += accepted;
          } else if (res.statusCode === 429 || res.statusCode === 503) {
            this.shed++;
          } else {
            this.errors++;
            this.lastError = `${res.statusCode} ${text.slice(0, 200)}`;
          }
          resolve({ status: res.statusCode, accepted, sentAt, ackAt });
        });
      });
      req.on('error', (err) => {
        this.errors++;
        this.lastError = err.message;
        resolve({ status: 0, accepted: 0, sentAt, ackAt: Date.now() });
      });
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}

function remember(attacks, batchAttacks, res, phase) {
  if (res.status !== 202) return;
  for (const a of batchAttacks) attacks.push({ ...a, sentAt: res.sentAt, ackAt: res.ackAt, phase });
}

/**
 * Closed loop: `concurrency` lanes post batches of `batch` events for `seconds`; a lane waits while the backlog
 * (accepted minus processed, from `processed()`) is above `maxBacklog`.
 */
export async function runClosedLoop({ poster, gen, seconds, concurrency, batch, maxBacklog, processed, attacks, phase }) {
  const end = Date.now() + seconds * 1000;
  let backlogWaits = 0;
  const lane = async () => {
    while (Date.now() < end) {
      if (poster.accepted - processed() > maxBacklog) {
        backlogWaits++;
        await sleep(10);
        continue;
      }
      const { events, attacks: batchAttacks } = gen.batch(batch);
      const res = await poster.post(events);
      remember(attacks, batchAttacks, res, phase);
      if (res.status !== 202) await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { backlogWaits };
}

/** Open loop: `rate` events/s offered in one request every `tickMs`, whatever the service does (up to 64 in flight). */
export async function runOpenLoop({ poster, gen, seconds, rate, tickMs, attacks, phase }) {
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const start = Date.now();
  const end = start + seconds * 1000;
  const inflight = new Set();
  let ticks = 0;
  let skipped = 0;
  while (Date.now() < end) {
    const due = start + ticks * tickMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    ticks++;
    if (inflight.size >= 64) {
      skipped++;
      continue;
    }
    const { events, attacks: batchAttacks } = gen.batch(perTick);
    const p = poster.post(events).then((res) => {
      remember(attacks, batchAttacks, res, phase);
      inflight.delete(p);
    });
    inflight.add(p);
  }
  await Promise.all(inflight);
  return { ticks, skipped, offered: ticks * perTick };
}
