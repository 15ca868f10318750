// Sessions and the networks they move through. A session is one cookie on one device: it begins with a
// login, gathers requests while its device is in use, may be rotated to a new id by the application and may
// end with a logout. Networks are small state machines that answer "which address does this device have at
// time t": a fixed home line, a mobile carrier handing out a new CGNAT address every few minutes, a
// dual-stack line whose IPv6 privacy address rotates inside one /64, a relay, a VPN, a satellite link.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Benign session classes, in the order a session that shows several behaviours is labelled by. */
export const BENIGN_CLASSES = [
  'developer-cli',
  'plane-travel',
  'train-travel',
  'browser-update',
  'multi-device',
  'corporate-vpn',
  'private-relay',
  'starlink',
  'mobile-churn',
  'cgnat',
  'ipv6-privacy',
  'commute',
  'home-only',
];

/**
 * Activity gaps of the scenarios are multiplied by this: an identity provider's or gateway's log sees a few
 * dozen events of a working day's session, not every HTTP request.
 */
export const GAP_SCALE = 2.2;

export const BENIGN_DESCRIPTIONS = {
  'developer-cli': 'a developer\'s CLI or script (python-requests, a Go tool, aws-cli) on their laptop with its own token for the working day: a call now and then, a few seconds after their browser\'s, from wherever the laptop is (home, the office, the VPN, a tethered phone, an airport)',
  'plane-travel': 'a flight abroad and the days there: airport Wi-Fi, in-flight satellite Wi-Fi, roaming (egress in the home country) or a local SIM, hotel Wi-Fi, the destination office; flights scheduled at ≤ 780 km/h block speed plus airport time',
  'train-travel': 'a rail journey between two cities (≤ 300 km/h) on mobile data, then the destination office or a hotel',
  'browser-update': 'the browser updates to a new major version in the middle of the session (same family, same OS)',
  'multi-device': 'laptop at the office, phone on mobile data all day, tablet polling from home: three sessions of one user at once on three networks',
  'corporate-vpn': 'working from home with the corporate VPN connecting, dropping at lunch and reconnecting (on 15% of days flapping for an hour: A/B/A/B); the regional gateway may be in another country (Frankfurt or Munich for London and Paris), 15% of users use one on another continent',
  'private-relay': 'iPhone Safari with iCloud Private Relay: the relay egress (AS36183) changes every ~30 min; direct on the office network, where relay is blocked',
  starlink: 'Starlink home internet: CGNAT addresses that change and geolocate to the ground station/PoP',
  'mobile-churn': 'a field worker on mobile data all day (a new carrier address every few minutes, IPv6 /64 changes on T-Mobile), laptop tethered to the phone',
  commute: 'home broadband, then mobile data on the commute, then the office network, then home again',
  cgnat: 'working from home behind the ISP\'s carrier-grade NAT: one public address shared by many users',
  'ipv6-privacy': 'working from home on a dual-stack line: IPv6 temporary addresses rotate inside one /64, some requests over IPv4',
  'home-only': 'working from home or a weekend at home on one broadband address, with the odd errand on mobile data',
};

export class Session {
  /**
   * @param sim the simulation (ids, labels)
   * @param user owner
   * @param device the device whose browser holds the cookie
   */
  constructor(sim, user, device, scenario) {
    this.sim = sim;
    this.user = user;
    this.device = device;
    this.scenario = scenario;
    this.sid = sim.newSessionId(user);
    this.features = new Set();
    /** @type {{t: number, type: string, ip: string, ua?: string, sid?: string, nsid?: string, mal?: boolean, actor?: string}[]} */
    this.events = [];
    this.label = undefined;
  }

  feature(f) {
    this.features.add(f);
  }

  /** requests on `net` between two times, `gap` minutes apart on average (at least 20 s) */
  span(from, to, gapMinutes, net) {
    if (to <= from) return;
    const r = this.user.rng;
    const gap = gapMinutes * GAP_SCALE;
    let t = from + r.exp(gap * MINUTE * 0.5);
    while (t < to) {
      this.events.push({ t: Math.round(t), type: r.chance(0.08) ? 'refresh' : 'request', ip: net.ipAt(t), net: net.kind });
      if (net.feature) this.feature(net.feature);
      t += Math.max(20_000, r.exp(gap * MINUTE));
    }
  }

  get first() {
    return this.events[0]?.t;
  }

  get last() {
    return this.events[this.events.length - 1]?.t;
  }

  netKinds() {
    return new Set(this.events.map((e) => e.net));
  }

  /**
   * Orders the events, makes the first a login, applies a browser update scheduled inside the session,
   * and decides rotation and logout. Returns false for a session with no events.
   */
  finish({ rotate = 0.25, logout = 0.2, forceRotate = false, forceLogout = false } = {}) {
    const r = this.user.rng;
    const ev = this.events.sort((a, b) => a.t - b.t);
    if (ev.length === 0) return false;
    ev[0].type = 'login';
    const d = this.device;
    if (d.updateDay === this.day && d.updateAt === Infinity && ev.length >= 6) {
      // The browser restarts into its new major version somewhere in the middle of the session.
      const k = r.int(Math.floor(ev.length / 3), Math.floor((2 * ev.length) / 3));
      d.updateAt = ev[k].t - 1;
      this.feature('browser-update');
    }
    for (const e of ev) {
      e.ua = d.uaAt(e.t);
      e.sid = this.sid;
    }
    if ((forceRotate || r.chance(rotate)) && ev.length >= 4) {
      // The application rotates the id (privilege change, periodic rotation): later events carry the new id.
      const k = r.int(1, ev.length - 2);
      const at = Math.round((ev[k].t + ev[k + 1].t) / 2);
      const next = this.sim.newSessionId(this.user);
      this.rotation = { at, from: this.sid, to: next, index: k + 1 };
      const rot = { t: at, type: 'rotate', ip: ev[k].ip, ua: ev[k].ua, sid: this.sid, nsid: next, net: ev[k].net };
      for (let i = k + 1; i < ev.length; i++) ev[i].sid = next;
      ev.splice(k + 1, 0, rot);
      // Now and then a request already in flight carries the old id just after the rotation (within grace).
      if (r.chance(0.1)) ev.splice(k + 2, 0, { t: at + r.int(1_000, 30_000), type: 'request', ip: ev[k].ip, ua: ev[k].ua, sid: this.sid, net: ev[k].net });
      this.sids = [this.sid, next];
    } else {
      this.sids = [this.sid];
    }
    if (forceLogout || (this.device.type === 'laptop' && r.chance(logout))) {
      const lastEv = ev[ev.length - 1];
      const at = lastEv.t + r.int(30_000, 10 * MINUTE);
      this.logoutAt = at;
      ev.push({ t: at, type: 'logout', ip: lastEv.ip, ua: lastEv.ua, sid: lastEv.sid, net: lastEv.net });
      // Another tab's request in flight at logout (within the 5 s grace).
      if (r.chance(0.05)) ev.push({ t: at + r.int(200, 4_000), type: 'request', ip: lastEv.ip, ua: lastEv.ua, sid: lastEv.sid, net: lastEv.net });
    }
    ev.sort((a, b) => a.t - b.t);
    return true;
  }

  /** the benign class this session is labelled with: the first of BENIGN_CLASSES it shows */
  benignClass() {
    const kinds = this.netKinds();
    if (['home', 'office', 'mobile'].filter((k) => kinds.has(k)).length >= 2) this.feature('commute');
    this.feature('home-only');
    return BENIGN_CLASSES.find((c) => this.features.has(c));
  }

  /** the session's id at time t (after a rotation, the new one) */
  sidAt(t) {
    return this.rotation && t >= this.rotation.at ? this.rotation.to : this.sid;
  }

  /** the victim's address and user agent at time t: those of the victim's latest event at or before t */
  victimAt(t) {
    let best = this.events[0];
    for (const e of this.events) {
      if (e.mal) continue;
      if (e.t <= t) best = e;
      else break;
    }
    return best;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Networks

export function fixedNet(ip, kind, feature) {
  return { kind, feature, ipAt: () => ip };
}

/** A NAT with several public addresses: each request leaves through one of them. */
export function natPoolNet(rng, addrs, kind, feature) {
  return { kind, feature, ipAt: () => rng.pick(addrs).ip };
}

/** A changing address: a new one from `draw()` after an exponential holding time (mean `holdMin`). */
export function churnNet(rng, draw, holdMin, kind, feature, minHoldMin = 2) {
  let ip;
  let until = -Infinity;
  return {
    kind,
    feature,
    ipAt(t) {
      if (t >= until) {
        ip = draw();
        until = t + Math.max(minHoldMin * MINUTE, rng.exp(holdMin * MINUTE));
      }
      return ip;
    },
  };
}

/** RFC 8981 temporary address: a random interface id inside the /64, regenerated every few hours. */
export function ipv6Temporary(rng, prefix) {
  const g = () => rng.int(0, 0xffff).toString(16);
  return `${prefix}:${g()}:${g()}:${g()}:${g()}`;
}

/** A dual-stack home line: most requests over IPv6 (temporary address rotating in the /64), some over IPv4. */
export function dualStackNet(rng, v4, prefix) {
  let v6 = ipv6Temporary(rng, prefix);
  let until = -Infinity;
  return {
    kind: 'home',
    feature: 'ipv6-privacy',
    ipAt(t) {
      if (t >= until) {
        v6 = ipv6Temporary(rng, prefix);
        until = t + Math.max(30 * MINUTE, rng.exp(3 * HOUR));
      }
      return rng.chance(0.12) ? v4 : v6;
    },
  };
}
