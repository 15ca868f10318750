// The session window: what the observe step records per session and hands to the rules.
// Two stores implement it (Redis for the service, memory for embedded mode); one contract test suite
// (test/integration/window-store.contract.test.ts) holds them to the same behaviour.
import type { EventType } from '../events/schema.js';

export type EndingType = Extract<EventType, 'logout' | 'revoke' | 'rotate'>;

export interface ObservedValue {
  /** a window field name, e.g. network, asn, country, browser, os, device, ua */
  field: string;
  value: string;
  /** opaque facts kept with the value on first sight (geo of a network, the raw UA, ...); no '|' rules */
  meta: string;
}

export interface Observation {
  session: string;
  event_id: string;
  time: number;
  end?: { type: EndingType; new_session?: string };
  values: ObservedValue[];
  /** what identifies "where the session is" for transition tracking: network + client */
  transition: string;
}

export interface WindowValue {
  value: string;
  first: number;
  last: number;
  meta: string;
}

export interface Transition {
  time: number;
  key: string;
}

export interface WindowSnapshot {
  /** the event id had been recorded before: nothing changed */
  duplicate: boolean;
  events: number;
  first_seen: number;
  last_seen: number;
  /** distinct values dropped by the per-field cap over the session's life */
  evicted: number;
  ended?: { type: EndingType; time: number; new_session?: string };
  rotated_from?: { session: string; time: number };
  /** the first session of a rotation chain this session belongs to */
  root?: string;
  fields: Record<string, WindowValue[]>;
  /** newest first; only changes of network/client are recorded */
  transitions: Transition[];
}

export interface WindowLimits {
  /** seconds a session's state lives after its last event */
  ttlSeconds: number;
  /** distinct values kept per field */
  valuesPerField: number;
  /** event ids remembered per session for idempotency */
  eventIds: number;
  /** transitions remembered per session */
  transitions: number;
}

export const DEFAULT_WINDOW_LIMITS: WindowLimits = {
  ttlSeconds: 7 * 24 * 3600,
  valuesPerField: 16,
  eventIds: 128,
  transitions: 16,
};

export interface WindowStore {
  readonly kind: 'redis' | 'memory';
  /** The session's window as it stands, without recording anything (timelines). */
  peek(session: string): Promise<WindowSnapshot | undefined>;
  /** Records the events in order; snapshot i is the window right after observation i. */
  observe(observations: readonly Observation[]): Promise<WindowSnapshot[]>;
  /**
   * A store in this process may record one event and hand back its live window: the same window observe() would
   * give, valid only until the next call (it is then changed in place). Read it, never keep it.
   */
  observeLive?(observation: Observation): WindowSnapshot;
  /**
   * Links a rotated-to session to the one it replaced (first link wins) and carries the old session's
   * values over, so the chain is judged as one session.
   */
  linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void>;
  close(): Promise<void>;
}

/** An empty window: what a caller's copy is before the session's first event. */
export function emptyWindow(): WindowSnapshot {
  return { duplicate: false, events: 0, first_seen: 0, last_seen: 0, evicted: 0, fields: {}, transitions: [] };
}

const byFirst = (a: WindowValue, b: WindowValue): number => a.first - b.first || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/**
 * The window after one recorded event, from the window before it (observe-3.lua's state machine, applied to a
 * snapshot: the memory store's state, and the Redis store's copies): the values evicted by the cap go, the event's
 * values are seen at its time, the earliest ending and the transition are recorded. Lists that change are copied:
 * snapshots handed out are never mutated.
 */
export function nextWindow(prev: WindowSnapshot, o: Observation, n: number, evicted: readonly (readonly [string, string])[], transitionCap: number): WindowSnapshot {
  const fields: Record<string, WindowValue[]> = { ...prev.fields };
  for (const [field, value] of evicted) {
    const list = fields[field];
    if (list) fields[field] = list.filter((v) => v.value !== value);
  }
  for (const v of o.values) {
    const list = fields[v.field];
    const at = list ? list.findIndex((x) => x.value === v.value) : -1;
    if (at === -1) {
      const next = list ? list.slice() : [];
      next.push({ value: v.value, first: o.time, last: o.time, meta: v.meta });
      fields[v.field] = next.sort(byFirst);
      continue;
    }
    const cur = list![at]!;
    if (o.time > cur.last) {
      const next = list!.slice();
      next[at] = { value: cur.value, first: cur.first, last: o.time, meta: cur.meta };
      fields[v.field] = next;
    } else if (o.time < cur.first) {
      const next = list!.slice();
      next[at] = { value: cur.value, first: o.time, last: cur.last, meta: cur.meta };
      fields[v.field] = next.sort(byFirst);
    }
  }
  const snap: WindowSnapshot = {
    ...prev, duplicate: false, events: n, evicted: prev.evicted + evicted.length, fields,
    first_seen: prev.first_seen === 0 || o.time < prev.first_seen ? o.time : prev.first_seen,
    last_seen: Math.max(prev.last_seen, o.time),
  };
  if (o.end && (!prev.ended || o.time < prev.ended.time)) {
    snap.ended = { type: o.end.type, time: o.time };
    if (o.end.new_session) snap.ended.new_session = o.end.new_session;
  }
  if (o.transition !== '' && prev.transitions[0]?.key !== o.transition) {
    snap.transitions = [{ time: o.time, key: o.transition }, ...prev.transitions].slice(0, transitionCap);
  }
  return snap;
}

/** The old session's values as carried into its successor: field, value, "first|last|meta". */
export function carriedValues(snapshot: WindowSnapshot): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const [field, values] of Object.entries(snapshot.fields)) for (const v of values) out.push([field, v.value, `${v.first}|${v.last}|${v.meta}`]);
  return out;
}

/** Builds a snapshot from the window hash's field/value pairs (the shared wire shape of both stores). */
export function snapshotFromHash(duplicate: boolean, hash: Iterable<[string, string]>, transitions: readonly string[]): WindowSnapshot {
  const snap: WindowSnapshot = { duplicate, events: 0, first_seen: 0, last_seen: 0, evicted: 0, fields: {}, transitions: [] };
  for (const [key, raw] of hash) {
    if (key.startsWith('v:')) {
      const sep = key.indexOf(':', 2);
      const field = key.slice(2, sep);
      const value = key.slice(sep + 1);
      const p1 = raw.indexOf('|');
      const p2 = raw.indexOf('|', p1 + 1);
      const entry: WindowValue = { value, first: Number(raw.slice(0, p1)), last: Number(raw.slice(p1 + 1, p2)), meta: raw.slice(p2 + 1) };
      (snap.fields[field] ??= []).push(entry);
      continue;
    }
    switch (key) {
      case 'n': snap.events = Number(raw); break;
      case 'f': snap.first_seen = Number(raw); break;
      case 'l': snap.last_seen = Number(raw); break;
      case 'ev': snap.evicted = Number(raw); break;
      case 'end': {
        const [type, time, next] = raw.split('|');
        snap.ended = { type: type as EndingType, time: Number(time) };
        if (next) snap.ended.new_session = next;
        break;
      }
      case 'root': snap.root = raw; break;
      case 'prev': {
        const [session, time] = raw.split('|');
        snap.rotated_from = { session: session ?? '', time: Number(time) };
        break;
      }
    }
  }
  // Stable order for deterministic evidence: by first sight, then value.
  for (const list of Object.values(snap.fields)) list.sort((a, b) => a.first - b.first || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  for (const t of transitions) {
    const p = t.indexOf('|');
    snap.transitions.push({ time: Number(t.slice(0, p)), key: t.slice(p + 1) });
  }
  return snap;
}
