// Synthetic canonical events for the throughput benchmarks: many concurrent sessions with Zipf-distributed
// activity, residential/mobile/IPv6 networks that really resolve (the ranges the rule pack's tests use), real
// browser user agents, and a few percent of marked attack events (a stolen cookie replayed from a datacenter
// with a script client, from Tor with another browser, or after the victim logged out).
//
// Deterministic for a seed. Every session's attributes are derived from its index, so a generator for
// 200 000 sessions holds a few arrays, not 200 000 objects.

/** mulberry32: small, fast, good enough for load shapes */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** integer hash of an index (splitmix-like), for per-session attributes without storing them */
function mix(i, salt) {
  let x = (i + 1) * 0x9e3779b1 + salt * 0x85ebca77;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Zipf over n items by inverse CDF (binary search in a precomputed table): index 0 is the most active. */
export class Zipf {
  constructor(n, s, random) {
    this.random = random;
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k] /= sum;
  }
  next() {
    const u = this.random();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// Residential networks (fixed line): first two or three octets; the rest varies per session.
const HOME_V4 = [
  '73.22', '24.48', '86.12', '90.0', '82.64', '77.20', '151.38', '126.20', '1.120', '49.36', '41.13', '187.1', '81.2.69',
];
const MOBILE_V4 = '172.56'; // T-Mobile US: the address changes every few requests, the AS does not
const V6_PREFIX = '2a02:8109'; // Vodafone DE: privacy addresses rotate inside the /64

const CHROME = (os, v) => `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`;
const BROWSER_UAS = [];
for (const v of [127, 128, 129, 130, 131]) {
  BROWSER_UAS.push(CHROME('Windows NT 10.0; Win64; x64', v));
  BROWSER_UAS.push(CHROME('Macintosh; Intel Mac OS X 10_15_7', v));
  BROWSER_UAS.push(`Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Mobile Safari/537.36`);
  BROWSER_UAS.push(`${CHROME('Windows NT 10.0; Win64; x64', v)} Edg/${v}.0.0.0`);
  BROWSER_UAS.push(`Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`);
}
for (const v of ['17.4', '17.5', '18.0', '18.1']) {
  BROWSER_UAS.push(`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v} Safari/605.1.15`);
  BROWSER_UAS.push(`Mozilla/5.0 (iPhone; CPU iPhone OS ${v.replace('.', '_')} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v} Mobile/15E148 Safari/604.1`);
}
const ATTACK_BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SCRIPT_UAS = ['python-requests/2.31.0', 'curl/8.5.0', 'Go-http-client/1.1'];
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];

export const ATTACK_KINDS = ['script-from-hosting', 'browser-from-tor', 'use-after-logout'];

/**
 * opts: sessions (number of sessions), zipf (exponent), attackRate (fraction of events that are attacks),
 * seed, runId (makes ids unique across runs on one Redis).
 */
export class EventGenerator {
  constructor(opts) {
    this.sessions = opts.sessions;
    this.attackRate = opts.attackRate ?? 0.02;
    this.random = rng(opts.seed ?? 1);
    this.zipf = new Zipf(this.sessions, opts.zipf ?? 0.9, this.random);
    this.runId = opts.runId ?? Date.now().toString(36);
    this.sessionKey = opts.sessionKey;
    this.seen = new Uint8Array(this.sessions);
    this.distinct = 0;
    this.seq = 0;
    this.attackSeq = 0;
    /** sessions attacked already (victims are attacked once, so each attack is a first detection) */
    this.attacked = new Uint8Array(this.sessions);
    this.mobileHop = new Uint16Array(this.sessions);
  }

  sessionId(i) {
    return `bench-${this.runId}-${i}`;
  }
  /** users have about two sessions each (a laptop and a phone, or two days); a user's sessions share a home */
  userIndex(i) {
    return i >>> 1;
  }
  tenant(i) {
    return TENANTS[mix(this.userIndex(i), 1) % TENANTS.length];
  }
  user(i) {
    return `user${this.userIndex(i)}@${this.tenant(i)}.example`;
  }
  /** kind of network a session lives on: 0 fixed IPv4 (80%), 1 mobile IPv4 (12%), 2 IPv6 /64 (8%) */
  netKind(i) {
    const r = mix(this.userIndex(i), 3) % 100;
    return r < 80 ? 0 : r < 92 ? 1 : 2;
  }
  ip(i) {
    const h = mix(this.userIndex(i), 4);
    switch (this.netKind(i)) {
      case 0: {
        const p = HOME_V4[h % HOME_V4.length];
        return p.split('.').length === 3 ? `${p}.${1 + (h >>> 8) % 254}` : `${p}.${(h >>> 8) % 256}.${1 + (h >>> 16) % 254}`;
      }
      case 1: {
        // Carrier NAT: the address moves inside the carrier's /24 every ~10 events (same AS, same place).
        const hop = (this.mobileHop[i]++ / 10) | 0;
        return `${MOBILE_V4}.${h % 256}.${1 + (mix(i * 31 + hop, 5) % 254)}`;
      }
      default: {
        const iid = (mix(i, 6) & 0xffff).toString(16);
        return `${V6_PREFIX}:${(h & 0xffff).toString(16)}:${((h >>> 16) & 0xffff).toString(16)}::${iid}`;
      }
    }
  }
  ua(i) {
    return BROWSER_UAS[mix(i, 7) % BROWSER_UAS.length];
  }

  /** the session hash the service stores for session i, with `hasher` = dist's SessionHasher for the same key */
  sessionHash(i, hasher) {
    return hasher.hash(this.tenant(i), this.sessionId(i));
  }

  benign(i, time) {
    const first = this.seen[i] === 0;
    if (first) {
      this.seen[i] = 1;
      this.distinct++;
    }
    const r = this.random();
    const type = first ? 'login' : r < 0.05 ? 'refresh' : 'request';
    return {
      id: `b-${this.runId}-${this.seq++}`, time, type, session_id: this.sessionId(i), user_id: this.user(i),
      ip: this.ip(i), user_agent: this.ua(i), tenant: this.tenant(i),
    };
  }

  /**
   * A victim: an already-active fixed-line session not attacked before, or undefined. Picked uniformly among
   * sessions outside the busiest 1%: a stolen cookie is an ordinary session, and a hot session attacked early
   * would turn most of the run's later events into detections on one compromised session.
   */
  pickVictim() {
    const floor = Math.ceil(this.sessions / 100);
    for (let tries = 0; tries < 50; tries++) {
      const i = floor + Math.floor(this.random() * (this.sessions - floor));
      if (this.seen[i] && !this.attacked[i] && this.netKind(i) === 0) {
        this.attacked[i] = 1;
        return i;
      }
    }
    return undefined;
  }

  /** the attack events on victim i (the last one is the marked trigger; times in event time) */
  attack(i, time) {
    const kind = ATTACK_KINDS[this.attackSeq % ATTACK_KINDS.length];
    const id = `atk-${this.runId}-${this.attackSeq++}`;
    const base = { session_id: this.sessionId(i), user_id: this.user(i), tenant: this.tenant(i) };
    const h = mix(this.attackSeq, 9);
    if (kind === 'script-from-hosting') {
      return { kind, id, session: i, events: [{ id, time, type: 'request', ...base, ip: `159.89.${h % 256}.${1 + (h >>> 8) % 254}`, user_agent: SCRIPT_UAS[h % SCRIPT_UAS.length] }] };
    }
    if (kind === 'browser-from-tor') {
      return { kind, id, session: i, events: [{ id, time, type: 'request', ...base, ip: `185.220.101.${1 + h % 254}`, user_agent: ATTACK_BROWSER }] };
    }
    // The victim logs out (a minute earlier in event time), then the cookie is used from elsewhere.
    return {
      kind, id, session: i, events: [
        { id: `${id}-logout`, time: time - 60_000, type: 'logout', ...base, ip: this.ip(i), user_agent: this.ua(i) },
        { id, time, type: 'request', ...base, ip: `3.5.140.${1 + h % 254}`, user_agent: this.ua(i) },
      ],
    };
  }

  /**
   * A batch of about n events at event time `time`: Zipf-picked benign events, and attacks at attackRate.
   * Returns { events, attacks: [{ kind, id, session }] }.
   */
  batch(n, time = Date.now()) {
    const events = [];
    const attacks = [];
    while (events.length < n) {
      if (this.random() < this.attackRate) {
        const v = this.pickVictim();
        if (v !== undefined) {
          const a = this.attack(v, time);
          for (const e of a.events) events.push(e);
          attacks.push({ kind: a.kind, id: a.id, session: a.session });
          continue;
        }
      }
      events.push(this.benign(this.zipf.next(), time));
    }
    return { events, attacks };
  }
}
