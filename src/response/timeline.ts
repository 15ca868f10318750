// A session's timeline for responders: where it has been (networks with place and AS, in order), which
// clients used it, how it moved, how it ended, and its incidents and revocations.
import type { Incident } from '../incidents/model.js';
import type { NetworkMeta, UserAgentMeta } from '../pipeline/observations.js';
import { splitTransitionKey } from '../pipeline/observations.js';
import type { WindowSnapshot } from '../state/window.js';

function meta<T>(raw: string): Partial<T> {
  try {
    return raw.startsWith('{') ? (JSON.parse(raw) as Partial<T>) : {};
  } catch {
    return {};
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionTimeline(session: string, w: WindowSnapshot, incidents: Incident[]) {
  const networks = (w.fields.network ?? []).map((v) => {
    const m = meta<NetworkMeta>(v.meta);
    return { network: v.value, ip: m.ip, country: m.cc, city: m.city, asn: m.asn, as_org: m.org, net_class: m.nc, first_seen: iso(v.first), last_seen: iso(v.last) };
  });
  const clients = (w.fields.ua ?? []).map((v) => {
    const m = meta<UserAgentMeta>(v.meta);
    return { user_agent: m.raw, browser: m.b, os: m.os, device: m.d, is_script: m.s, first_seen: iso(v.first), last_seen: iso(v.last) };
  });
  const moves = [...w.transitions].reverse().map((t) => ({ time: iso(t.time), ...splitTransitionKey(t.key) }));
  return {
    session,
    first_seen: iso(w.first_seen),
    last_seen: iso(w.last_seen),
    events: w.events,
    ended: w.ended ? { ...w.ended, time: iso(w.ended.time) } : null,
    rotated_from: w.rotated_from ? { session: w.rotated_from.session, time: iso(w.rotated_from.time) } : null,
    root: w.root ?? null,
    networks,
    clients,
    countries: (w.fields.country ?? []).map((v) => v.value),
    moves,
    evicted_values: w.evicted,
    incidents: incidents.map((i) => ({ id: i.id, rule: i.rule.id, severity: i.severity, status: i.status, count: i.count, first_seen: i.first_seen, last_seen: i.last_seen, response: i.response ?? null })),
  };
}
