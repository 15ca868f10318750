// Percentiles and the incident-side of detection latency.
import { Redis } from 'ioredis';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Reads every incident's creation time (the worker's clock when it stored the incident) and triggering event ids
 * from Redis; returns Map event id -> earliest creation time of an incident that event triggered or joined.
 */
export async function incidentTimesByEvent(url, prefix = 'rg') {
  const redis = new Redis(url);
  try {
    const idx = await redis.zrange(`${prefix}:{inc}:idx`, 0, -1);
    const out = new Map();
    for (let i = 0; i < idx.length; i += 500) {
      const ids = idx.slice(i, i + 500);
      const p = redis.pipeline();
      for (const id of ids) p.hget(`${prefix}:{inc}:i:${id}`, 'created').zrange(`${prefix}:{inc}:i:${id}:ev`, 0, -1);
      const res = await p.exec();
      for (let k = 0; k < ids.length; k++) {
        const created = Number(res[k * 2][1]);
        for (const ev of res[k * 2 + 1][1] ?? []) {
          const prev = out.get(ev);
          if (prev === undefined || created < prev) out.set(ev, created);
        }
      }
    }
    return { byEvent: out, incidents: idx.length };
  } finally {
    redis.disconnect();
  }
}

/**
 * Latency per attack: incident created − request accepted (202), and − request sent. An attack counts as
 * "folded" when its incident existed before it was sent (not a first detection), "missed" when no incident names it.
 */
export function attackLatencies(attacks, byEvent) {
  const accepted = [];
  const sent = [];
  let missed = 0;
  let folded = 0;
  const missedKinds = {};
  for (const a of attacks) {
    const created = byEvent.get(a.id);
    if (created === undefined) {
      missed++;
      missedKinds[a.kind] = (missedKinds[a.kind] ?? 0) + 1;
      continue;
    }
    if (created < a.sentAt) {
      folded++;
      continue;
    }
    accepted.push(created - a.ackAt); // may be < 0: the job can complete before the 202 reaches the client
    sent.push(created - a.sentAt);
  }
  accepted.sort((x, y) => x - y);
  sent.sort((x, y) => x - y);
  const pct = (s) => ({ n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] });
  return { accepted: pct(accepted), sent: pct(sent), missed, folded, missedKinds };
}
