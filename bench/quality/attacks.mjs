// The attacks: each one is a labelled session. Where the victim keeps working while the attacker replays
// (infostealer, residential proxy, concurrent use), the victim's own events continue in the same session.
import { ATTACKER_BROWSERS, SCRIPT_AGENTS, uaOf } from './agents.mjs';
import { HOME_POOLS, localTime } from './benign.mjs';
import { churnNet, fixedNet, HOUR, MINUTE, Session } from './sessions.mjs';

export const ATTACK_CLASSES = ['infostealer-datacenter', 'aitm-script', 'resproxy-same-ua', 'after-logout', 'rotated-out-id', 'concurrent-interleaved'];

export const ATTACK_DESCRIPTIONS = {
  'infostealer-datacenter': 'a cookie stolen by an infostealer replayed, while the victim keeps working, from a datacenter (AWS, DigitalOcean, Hetzner, OVH, Vultr, Linode) in another country (15%: a Tor exit), in the attacker\'s own browser (often Chrome on Windows too)',
  'aitm-script': 'an AiTM kit: the victim signs in through the phishing proxy (a VPS; 15% a residential proxy abroad) with their own browser, then the kit replays the cookie with python-requests, Go-http-client, curl, httpx or axios',
  'resproxy-same-ua': 'replay through a residential proxy in the victim\'s country (half of them in the victim\'s own ISP), sticky or rotating per request, with the victim\'s exact user agent, while the victim keeps working',
  'after-logout': 'the cookie used 5 min to 8 h after the victim logged out (a datacenter abroad in the attacker\'s browser, or a residential proxy in the victim\'s country or ISP with the victim\'s user agent)',
  'rotated-out-id': 'the pre-rotation id used 3 min to 6 h after the application rotated the session (same mix of networks and agents)',
  'concurrent-interleaved': 'victim and attacker alternate on the session within minutes (A, B, A, B), the attacker on a datacenter abroad, another ISP in the victim\'s country or a residential line abroad, with the victim\'s user agent or their own',
};

function hostingAbroad(sim, r, country) {
  const { pools } = sim.nets;
  for (;;) {
    const pool = pools[r.pick(['aws', 'digitalocean', 'hetzner', 'ovh', 'vultr', 'linode'])];
    const c = pool.addrs.filter((a) => a.country !== country);
    if (c.length > 0) return r.pick(c);
  }
}

function residential(sim, r, user, where) {
  const { pools } = sim.nets;
  if (where === 'same-isp') {
    const key = pools[user.ispKey].role === 'home' ? user.ispKey : r.pick(HOME_POOLS[user.country]);
    return () => pools[key].pickIn(r, user.country).ip;
  }
  if (where === 'same-country') {
    const others = HOME_POOLS[user.country].filter((k) => k !== user.ispKey);
    const key = r.pick(others);
    return () => pools[key].pickIn(r, user.country).ip;
  }
  const cc = r.pick(Object.keys(HOME_POOLS).filter((c) => c !== user.country));
  const key = r.pick(HOME_POOLS[cc]);
  return () => pools[key].pickIn(r, cc).ip;
}

/** sticky (one exit for the whole replay) or rotating (a new exit per request) */
function proxyNet(r, draw, rotating) {
  return rotating ? churnNet(r, draw, 0, 'attacker', undefined, 0) : fixedNet(draw(), 'attacker');
}

function attackerBrowser(r) {
  return uaOf(r.weighted(ATTACKER_BROWSERS), 1);
}

/** Attacker requests from `start`: `n` of them, `gap` minutes apart on average. */
function replay(session, r, { start, n, gap, net, ua, sid }) {
  let t = start;
  for (let i = 0; i < n; i++) {
    session.events.push({ t: Math.round(t), type: r.chance(0.1) ? 'refresh' : 'request', ip: net.ipAt(t), ua: typeof ua === 'function' ? ua(t) : ua, sid, mal: true, net: 'attacker' });
    t += Math.max(10_000, r.exp(gap * MINUTE));
  }
}

function victimSpan(victim) {
  const own = victim.events.filter((e) => !e.mal && e.type !== 'logout' && e.type !== 'rotate');
  return { first: own[0].t, last: own[own.length - 1].t };
}

/** the network and user agent mix of replays after the session ended (logout, rotation) */
function lateReplayer(sim, r, user, victim, at) {
  const v = victim.victimAt(at);
  const kind = r.weighted([['hosting', 40], ['same-country', 40], ['same-isp', 20]]);
  if (kind === 'hosting') return { net: fixedNet(hostingAbroad(sim, r, user.country).ip, 'attacker'), ua: attackerBrowser(r), how: 'hosting-abroad/own-browser' };
  return { net: proxyNet(r, residential(sim, r, user, kind), r.chance(0.5)), ua: v.ua, how: `residential-${kind}/victim-ua` };
}

/** Which of the user's sessions the attack needs, and what it needs of it (a logout, a rotation). */
export function prepareAttack(cls, sessions) {
  if (cls === 'aitm-script') return { victim: undefined, finish: {} };
  const laptop = sessions.find((s) => s.device.type === 'laptop' && s.events.length >= 6);
  const victim = laptop ?? sessions.find((s) => s.events.length >= 6) ?? sessions[0];
  if (cls === 'after-logout') return { victim, finish: { forceLogout: true, rotate: 0 } };
  if (cls === 'rotated-out-id') return { victim, finish: { forceRotate: true, logout: 0 } };
  return { victim, finish: {} };
}

/**
 * Adds the attacker's events (mal: true) to the victim's finished session, or builds the AiTM session.
 * Returns the attack session and a short description of how the attacker operated.
 */
export function injectAttack(sim, cls, user, day, victim, r) {
  const { pools } = sim.nets;
  if (cls === 'aitm-script') {
    const laptop = user.devices[0];
    const s = new Session(sim, user, laptop, 'aitm');
    s.day = day;
    const t0 = localTime(sim, user.country, day, r.range(9, 17));
    const viaResidential = r.chance(0.15);
    const proxyIp = viaResidential ? residential(sim, r, user, 'abroad')() : r.pick(pools[r.pick(['digitalocean', 'vultr', 'linode', 'aws', 'ovh'])].addrs).ip;
    const proxy = fixedNet(proxyIp, 'aitm-proxy');
    // The victim signs in through the proxy and browses a little through it: the session is born on the
    // attacker's infrastructure, so every event of it counts as malicious (the kit relays them).
    s.events.push({ t: Math.round(t0), type: 'login', ip: proxyIp, net: 'aitm-proxy', mal: true });
    let t = t0;
    for (let i = r.int(1, 4); i > 0; i--) {
      t += r.range(0.5, 3) * MINUTE;
      s.events.push({ t: Math.round(t), type: 'request', ip: proxy.ipAt(t), net: 'aitm-proxy', mal: true });
    }
    s.finish({ rotate: 0, logout: 0 });
    const sameBox = r.chance(0.4);
    const net = sameBox ? proxy : fixedNet(hostingAbroad(sim, r, user.country).ip, 'attacker');
    replay(s, r, { start: t + r.range(2, 90) * MINUTE, n: r.int(3, 25), gap: 1, net, ua: r.pick(SCRIPT_AGENTS), sid: s.sid });
    s.how = `${viaResidential ? 'residential proxy' : 'VPS proxy'}, script from ${sameBox ? 'the proxy' : 'another VPS'}`;
    return s;
  }

  const { first, last } = victimSpan(victim);
  const within = () => (last - first < 30 * MINUTE ? first + (last - first) / 2 : r.range(first + 20 * MINUTE, last - 10 * MINUTE));

  if (cls === 'infostealer-datacenter') {
    const start = within();
    const tor = r.chance(0.15);
    const addr = tor ? r.pick(pools.tor.addrs) : hostingAbroad(sim, r, user.country);
    replay(victim, r, { start, n: r.int(4, 20), gap: 3, net: fixedNet(addr.ip, 'attacker'), ua: attackerBrowser(r), sid: victim.sidAt(start) });
    victim.how = tor ? 'tor' : `hosting ${addr.country} AS${addr.asn}`;
  } else if (cls === 'resproxy-same-ua') {
    const start = within();
    const where = r.chance(0.5) ? 'same-isp' : 'same-country';
    const rotating = r.chance(0.5);
    replay(victim, r, { start, n: r.int(4, 20), gap: 4, net: proxyNet(r, residential(sim, r, user, where), rotating), ua: (t) => victim.victimAt(t).ua, sid: victim.sidAt(start) });
    victim.how = `${where} ${rotating ? 'rotating' : 'sticky'}`;
  } else if (cls === 'after-logout') {
    const start = victim.logoutAt + r.range(5, 8 * 60) * MINUTE;
    const a = lateReplayer(sim, r, user, victim, victim.logoutAt);
    replay(victim, r, { start, n: r.int(2, 12), gap: 4, net: a.net, ua: a.ua, sid: victim.sidAt(victim.logoutAt) });
    victim.how = a.how;
  } else if (cls === 'rotated-out-id') {
    const start = victim.rotation.at + r.range(3, 6 * 60) * MINUTE;
    const a = lateReplayer(sim, r, user, victim, victim.rotation.at);
    replay(victim, r, { start, n: r.int(2, 12), gap: 4, net: a.net, ua: a.ua, sid: victim.rotation.from });
    victim.how = a.how;
  } else if (cls === 'concurrent-interleaved') {
    let t = within();
    const sid = victim.sidAt(t);
    const kind = r.weighted([['hosting', 30], ['same-country', 40], ['abroad', 30]]);
    const net = kind === 'hosting' ? fixedNet(hostingAbroad(sim, r, user.country).ip, 'attacker') : fixedNet(residential(sim, r, user, kind)(), 'attacker');
    const ownUa = r.chance(0.5) ? attackerBrowser(r) : undefined;
    for (let k = r.int(3, 6); k > 0; k--) {
      const v = victim.victimAt(t);
      victim.events.push({ t: Math.round(t), type: 'request', ip: v.ip, ua: v.ua, sid, net: v.net });
      const ta = t + r.range(0.5, 4) * MINUTE;
      victim.events.push({ t: Math.round(ta), type: 'request', ip: net.ipAt(ta), ua: ownUa ?? victim.victimAt(ta).ua, sid, mal: true, net: 'attacker' });
      t = ta + r.range(1, 5) * MINUTE;
    }
    victim.how = `${kind}/${ownUa ? 'own-browser' : 'victim-ua'}`;
  }
  victim.events.sort((a, b) => a.t - b.t);
  return victim;
}

/**
 * Which user is attacked on which day, and how: `perClass` attacks of each class on distinct (user, day)
 * pairs, on measured weekdays when the user is not travelling.
 */
export function scheduleAttacks(rng, users, { perClass, measuredFrom, days }) {
  const schedule = new Map();
  for (const cls of ATTACK_CLASSES) {
    let placed = 0;
    for (let tries = 0; placed < perClass && tries < perClass * 50; tries++) {
      const u = rng.pick(users);
      const day = rng.int(measuredFrom, days - 1);
      if (day % 7 >= 5) continue;
      if (u.trip && day >= u.trip.start - 1 && day <= u.trip.end + 1) continue;
      const key = `${u.index}:${day}`;
      if (schedule.has(key)) continue;
      schedule.set(key, cls);
      placed++;
    }
  }
  return schedule;
}
