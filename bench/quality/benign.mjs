// A person's day: which devices they use, where, and when. Each function returns the sessions of one user
// on one local day (unfinished: the caller may force a rotation or a logout on a session an attack needs).
import { distanceKm, FLIGHT_BLOCK_KMH, FLIGHT_TAXI_HOURS, UTC_OFFSET } from './places.mjs';
import { churnNet, dualStackNet, fixedNet, HOUR, ipv6Temporary, MINUTE, natPoolNet, Session } from './sessions.mjs';

const HOME_POOLS = {
  US: ['comcast', 'charter', 'att', 'verizon-fios'],
  CA: ['bell', 'rogers', 'videotron'],
  GB: ['bt', 'virgin'],
  DE: ['dtag', 'vodafone-de'],
  FR: ['orange', 'free', 'sfr'],
  AU: ['telstra', 'optus'],
  JP: ['ntt-ocn', 'kddi'],
};
const LOCAL_MOBILE = { US: 'tmobile-us', CA: 'rogers-wireless', GB: 'vodafone-uk', DE: 'telefonica-de', FR: 'orange-mobile', AU: 'telstra-mobile', JP: 'docomo' };

export { HOME_POOLS };

/** UTC time of local hour `h` on simulated day `day` in a country */
export function localTime(sim, country, day, h) {
  return sim.start + day * 86_400_000 + (h - UTC_OFFSET[country]) * HOUR;
}

/** The user's home line today (Starlink and CGNAT addresses move; a dual-stack line rotates its IPv6). */
function homeNet(sim, user) {
  const r = user.rng;
  const { pools } = sim.nets;
  if (user.starlink) return churnNet(r, () => pools.starlink.pickIn(r, user.country).ip, 6 * 60, 'home', 'starlink', 60);
  if (user.cgnat) return churnNet(r, () => r.pick(user.cgnatSet).ip, 12 * 60, 'home', 'cgnat', 120);
  if (user.home6) return dualStackNet(r, user.home.ip, user.home6.prefix);
  return fixedNet(user.home.ip, 'home');
}

/**
 * The user's mobile data: a new CGNAT address every ~25 min (an IPv6 /64 on carriers that give one). Most
 * addresses are ones the databases place near the user or only at country level (the carrier's regional
 * gateway); one in ten (GEO_ERROR_RATE) is one placed anywhere in the country (a gateway elsewhere, a
 * database error), as real carrier data is.
 */
export const GEO_ERROR_RATE = 0.1;

function mobileNet(sim, user, { carrierKey = user.mobileKey, near = user.office, country = user.country, hold = 25, feature } = {}) {
  const r = user.rng;
  const pool = sim.nets.pools[carrierKey];
  const draw = () => {
    const anywhere = r.chance(GEO_ERROR_RATE);
    if (pool.prefixes6.length > 0 && r.chance(0.5)) {
      const near6 = pool.prefixes6.filter((p) => p.country === country && (anywhere || (p.lat !== undefined && distanceKm(p.lat, p.lon, near.lat, near.lon) - (p.acc ?? 0) <= 300)));
      return ipv6Temporary(r, r.pick(near6.length > 0 ? near6 : pool.prefixes6).prefix);
    }
    return (anywhere ? pool.pickIn(r, country) : pool.pickNear(r, near, 300, country)).ip;
  };
  return churnNet(r, draw, hold, 'mobile', feature);
}

function officeNet(sim, user, office = user.office) {
  return natPoolNet(user.rng, office.egress, 'office');
}

/** iCloud Private Relay: an egress address in the user's region, changing about every half hour. */
function relayNet(sim, user, near = user.office, country = user.country) {
  const r = user.rng;
  const pool = sim.nets.pools['icloud-relay'];
  return churnNet(r, () => pool.pickNear(r, near, 300, country).ip, 30, 'relay', 'private-relay', 3);
}

function vpnNet(sim, user) {
  return fixedNet(user.rng.pick(user.gateway.egress).ip, 'vpn', 'corporate-vpn');
}

/** the phone's network at home: home Wi-Fi, through Private Relay for relay users */
function phoneHome(sim, user, home) {
  return user.relay ? relayNet(sim, user) : home;
}

function phoneMobile(sim, user) {
  return user.relay ? relayNet(sim, user) : mobileNet(sim, user);
}

/**
 * Today's timetable: local hour → UTC time, each hour jittered (±20 min) once, so that one span's end and
 * the next span's start are the same moment (a phone leaves home Wi-Fi when it joins the carrier).
 */
function clock(sim, country, day, r) {
  const memo = new Map();
  return (h) => {
    let t = memo.get(h);
    if (t === undefined) {
      t = localTime(sim, country, day, h) + r.normal(0, 20) * MINUTE;
      memo.set(h, t);
    }
    return t;
  };
}

function newSession(sim, user, device, day, scenario) {
  const s = new Session(sim, user, device, scenario);
  s.day = day;
  return s;
}

// ---------------------------------------------------------------------------------------------------------

function officeDay(sim, user, day) {
  const r = user.rng;
  const [laptop, phone, tablet] = user.devices;
  const L = clock(sim, user.country, day, r);
  const home = homeNet(sim, user);
  const out = [];
  const multi = tablet !== undefined && r.chance(0.2);
  const field = user.field && r.chance(0.7);

  if (field) {
    // Out all day on mobile data; the laptop is tethered to the phone (same addresses at the same time).
    const mob = mobileNet(sim, user, { feature: 'mobile-churn', hold: 15 });
    const s = newSession(sim, user, laptop, day, 'field');
    s.feature('mobile-churn');
    s.span(L(9.5), L(12), 15, mob);
    s.span(L(13), L(16), 15, mob);
    const p = newSession(sim, user, phone, day, 'field');
    p.feature('mobile-churn');
    p.span(L(7.5), L(18.5), 9, user.relay ? relayNet(sim, user) : mob);
    p.span(L(19), L(22), 25, phoneHome(sim, user, home));
    out.push(s, p);
    return out;
  }

  const s = newSession(sim, user, laptop, day, 'office');
  if (r.chance(0.6)) s.span(L(7), L(8), 12, home);
  const office = officeNet(sim, user);
  s.span(L(8.75), L(12), 12, office);
  s.span(L(13), L(17.5), 12, office);
  if (r.chance(0.35)) s.span(L(19.5), L(21.5), 15, home);
  if (multi) s.feature('multi-device');
  out.push(s);

  const p = newSession(sim, user, phone, day, 'office');
  p.span(L(6.75), L(7.75), 15, phoneHome(sim, user, home));
  p.span(L(7.75), L(8.7), 6, phoneMobile(sim, user));
  if (multi) {
    p.span(L(8.7), L(17.5), 20, phoneMobile(sim, user));
    p.feature('multi-device');
  } else {
    // Office Wi-Fi blocks Private Relay: relay users' iPhones go direct there.
    p.span(L(8.7), L(17.5), 35, r.chance(0.5) ? office : phoneMobile(sim, user));
  }
  p.span(L(17.5), L(18.3), 8, phoneMobile(sim, user));
  p.span(L(18.3), L(22.5), 20, phoneHome(sim, user, home));
  out.push(p);

  if (tablet && (multi || r.chance(0.3))) {
    const t = newSession(sim, user, tablet, day, 'office');
    if (multi) {
      // Left at home with the web app open: it keeps polling while its owner is at the office.
      t.span(L(7), L(22), 40, home);
      t.feature('multi-device');
    } else {
      t.span(L(20), L(22.5), 20, home);
    }
    out.push(t);
  }
  return out;
}

function homeDay(sim, user, day, weekend) {
  const r = user.rng;
  const [laptop, phone, tablet] = user.devices;
  const L = clock(sim, user.country, day, r);
  const home = homeNet(sim, user);
  const out = [];
  if (!weekend || r.chance(0.3)) {
    const s = newSession(sim, user, laptop, day, weekend ? 'weekend' : 'wfh');
    if (!weekend && user.vpn) {
      // Corporate VPN: direct before it connects, through the gateway while up, direct again at lunch.
      const vpn = vpnNet(sim, user);
      s.span(L(8), L(8.6), 10, home);
      if (r.chance(0.15)) {
        // A flaky connection: the tunnel drops and reconnects every few minutes for an hour.
        let t = L(8.6);
        const end = t + HOUR;
        let up = true;
        while (t < end) {
          const next = t + r.range(4, 12) * MINUTE;
          s.span(t, next, 2.5, up ? vpn : home);
          up = !up;
          t = next;
        }
        s.span(t, L(12), 12, vpn);
      } else {
        s.span(L(8.6), L(12), 12, vpn);
      }
      s.span(L(12), L(12.75), 10, home);
      s.span(L(12.75), L(17.5), 12, vpn);
    } else if (weekend) {
      s.span(L(10), L(12), 15, home);
    } else {
      s.span(L(8.5), L(12), 12, home);
      s.span(L(13), L(17.5), 12, home);
    }
    out.push(s);
  }
  const p = newSession(sim, user, phone, day, weekend ? 'weekend' : 'wfh');
  const ph = phoneHome(sim, user, home);
  p.span(L(7), L(12), 30, ph);
  if (r.chance(0.5)) p.span(L(12), L(13), 10, phoneMobile(sim, user));
  p.span(L(13), L(23), 30, ph);
  out.push(p);
  if (tablet && r.chance(0.4)) {
    const t = newSession(sim, user, tablet, day, 'home');
    t.span(L(19), L(22.5), 20, home);
    out.push(t);
  }
  return out;
}

/**
 * A flight abroad. Departure between 08:00 and 16:00 local; block time = distance / 780 km/h + 0.6 h; the
 * last address at the origin is the departure-gate Wi-Fi 30 min before take-off, the first at the
 * destination is 20 min after landing. Some passengers use in-flight Wi-Fi (satellite networks).
 */
function flightDay(sim, user, day, from, to, outbound) {
  const r = user.rng;
  const { pools } = sim.nets;
  const [laptop, phone] = user.devices;
  const fromCountry = from.country;
  const depart = localTime(sim, fromCountry, day, r.range(8, 16));
  const km = distanceKm(from.lat, from.lon, to.lat, to.lon);
  const block = (km / FLIGHT_BLOCK_KMH + FLIGHT_TAXI_HOURS) * HOUR;
  const land = depart + block;
  // Nothing of this user happens anywhere else until the plane is down.
  user.availableFrom = land + 0.3 * HOUR;
  const home = homeNet(sim, user);
  const originHome = outbound ? home : fixedNet(hotelFor(sim, user, from).ip, 'hotel');
  const destNet = outbound ? fixedNet(hotelFor(sim, user, to).ip, 'hotel') : home;
  const airport = fixedNet(pools[user.rng.pick(HOME_POOLS[fromCountry])].pickNear(r, from, 60, fromCountry).ip, 'airport');
  const roam = user.roams;
  const atDest = outbound
    ? roam ? mobileNet(sim, user, { hold: 25 }) : mobileNet(sim, user, { carrierKey: LOCAL_MOBILE[to.country], near: to, country: to.country })
    : phoneMobile(sim, user);
  const inflightPool = pools[r.pick(['viasat', 'intelsat', 'panasonic-avionics'])];
  const wifi = block > 3 * HOUR && r.chance(0.4) ? churnNet(r, () => r.pick(inflightPool.addrs).ip, 40, 'inflight', undefined, 10) : undefined;

  const s = newSession(sim, user, laptop, day, 'flight');
  s.feature('plane-travel');
  s.span(depart - 4 * HOUR, depart - 3 * HOUR, 12, originHome);
  s.span(depart - 1.6 * HOUR, depart - 0.5 * HOUR, 10, airport);
  if (wifi) s.span(depart + 0.5 * HOUR, land - 0.5 * HOUR, 20, wifi);
  s.span(land + 1.5 * HOUR, land + 4 * HOUR, 15, destNet);
  const p = newSession(sim, user, phone, day, 'flight');
  p.feature('plane-travel');
  p.span(depart - 5 * HOUR, depart - 3 * HOUR, 20, originHome);
  p.span(depart - 3 * HOUR, depart - 1.6 * HOUR, 8, phoneMobile(sim, user));
  p.span(depart - 1.6 * HOUR, depart - 0.5 * HOUR, 10, airport);
  if (wifi && r.chance(0.5)) p.span(depart + 0.5 * HOUR, land - 0.5 * HOUR, 30, wifi);
  p.span(land + 0.33 * HOUR, land + 1.5 * HOUR, 8, atDest);
  p.span(land + 1.5 * HOUR, land + 5 * HOUR, 20, outbound ? destNet : phoneHome(sim, user, home));
  return [s, p];
}

function hotelFor(sim, user, place) {
  user.hotels ??= new Map();
  let h = user.hotels.get(place.city ?? place.name);
  if (!h) {
    const pools = sim.nets.pools;
    const key = user.rng.pick(HOME_POOLS[place.country]);
    h = pools[key].pickNear(user.rng, place, 60, place.country);
    user.hotels.set(place.city ?? place.name, h);
  }
  return h;
}

/** A day at the trip's destination: the tenant's office there (or a hotel), phone roaming or on a local SIM. */
function awayDay(sim, user, day, dest) {
  const r = user.rng;
  const [laptop, phone] = user.devices;
  const L = clock(sim, dest.country, day, r);
  const hotel = fixedNet(hotelFor(sim, user, dest).ip, 'hotel');
  const destOffice = Object.values(sim.world.offices).find((o) => o.tenant === user.tenant && o.city === dest.city);
  const work = destOffice ? officeNet(sim, user, destOffice) : hotel;
  const mob = dest.country === user.country ? phoneMobile(sim, user) : user.roams ? mobileNet(sim, user) : mobileNet(sim, user, { carrierKey: LOCAL_MOBILE[dest.country], near: dest, country: dest.country });
  const cls = user.trip.kind === 'plane' ? 'plane-travel' : 'train-travel';
  const s = newSession(sim, user, laptop, day, 'away');
  s.feature(cls);
  s.span(L(7.5), L(8.3), 12, hotel);
  s.span(L(9), L(17.5), 14, work);
  s.span(L(20), L(22), 15, hotel);
  const p = newSession(sim, user, phone, day, 'away');
  p.feature(cls);
  p.span(L(7), L(8.5), 15, hotel);
  p.span(L(8.5), L(9), 6, mob);
  p.span(L(9), L(17.5), 30, r.chance(0.5) ? work : mob);
  p.span(L(17.5), L(19.5), 10, mob);
  p.span(L(19.5), L(23), 20, hotel);
  return [s, p];
}

/** A rail journey: home in the morning, on the train on mobile data, then the destination office. */
function trainDay(sim, user, day, from, to, hours, outbound) {
  const r = user.rng;
  const [laptop, phone] = user.devices;
  const depart = localTime(sim, from.country, day, r.range(7, 9));
  const arrive = depart + hours * HOUR;
  const home = homeNet(sim, user);
  const start = outbound ? home : fixedNet(hotelFor(sim, user, from).ip, 'hotel');
  const destOffice = Object.values(sim.world.offices).find((o) => o.tenant === user.tenant && o.city === to.city);
  const end = outbound ? (destOffice ? officeNet(sim, user, destOffice) : fixedNet(hotelFor(sim, user, to).ip, 'hotel')) : home;
  // On board: the user's own carrier (roaming abroad still egresses at home), a new address every ~12 min.
  const onboard = mobileNet(sim, user, { hold: 12, near: from });
  const s = newSession(sim, user, laptop, day, 'train');
  s.feature('train-travel');
  s.span(depart - 1.5 * HOUR, depart - 0.6 * HOUR, 12, start);
  s.span(depart + 0.2 * HOUR, arrive - 0.2 * HOUR, 10, onboard);
  s.span(arrive + 0.5 * HOUR, arrive + 4 * HOUR, 14, end);
  const p = newSession(sim, user, phone, day, 'train');
  p.feature('train-travel');
  p.span(depart - 2 * HOUR, depart - 0.6 * HOUR, 20, outbound ? phoneHome(sim, user, home) : start);
  p.span(depart - 0.6 * HOUR, arrive + 0.4 * HOUR, 12, user.relay ? relayNet(sim, user, from, from.country) : onboard);
  p.span(arrive + 0.5 * HOUR, arrive + 6 * HOUR, 25, end);
  return [s, p];
}

/** The sessions of one user on one local day. */
export function userDay(sim, user, day) {
  const sessions = dayPlan(sim, user, day);
  const flight = sessions.some((s) => s.scenario === 'flight');
  if (!flight && user.availableFrom !== undefined) {
    // A long flight may land after this local day began: the day starts when its owner arrives.
    for (const s of sessions) s.events = s.events.filter((e) => e.t >= user.availableFrom);
  }
  const out = sessions.filter((s) => s.events.length > 0);
  const cli = user.cli ? cliSession(sim, user, day, out) : undefined;
  if (cli) out.push(cli);
  return out;
}

/**
 * A developer's CLI or script on the laptop, holding its own token for the working day: it calls the API now and
 * then, a few seconds after the person's own browser, from wherever the laptop is. It draws from the user's CLI
 * stream only (the owner below carries it), so the rest of the user's day is the same with or without it.
 */
function cliSession(sim, user, day, sessions) {
  const laptop = sessions.find((s) => s.device === user.devices[0]);
  if (!laptop || laptop.scenario === 'weekend') return undefined;
  const r = user.cli.rng.fork(`day:${day}`);
  if (!r.chance(0.7)) return undefined;
  const owner = Object.create(user, { rng: { value: r } });
  const s = newSession(sim, owner, user.cli.device, day, laptop.scenario);
  s.feature('developer-cli');
  for (const e of laptop.events) if (r.chance(0.4)) s.events.push({ t: e.t + r.int(1_000, 90_000), type: 'request', ip: e.ip, net: e.net });
  return s.events.length > 0 ? s : undefined;
}

function dayPlan(sim, user, day) {
  const weekend = day % 7 >= 5;
  const trip = user.trip;
  if (trip && day >= trip.start && day <= trip.end) {
    const origin = user.office;
    user.roams ??= user.rng.chance(0.5);
    if (trip.kind === 'plane') {
      if (day === trip.start) return flightDay(sim, user, day, origin, trip.dest, true);
      if (day === trip.end) return flightDay(sim, user, day, trip.dest, origin, false);
      return awayDay(sim, user, day, trip.dest);
    }
    if (day === trip.start) return trainDay(sim, user, day, origin, trip.dest, trip.hours, true);
    if (day === trip.end) return trainDay(sim, user, day, trip.dest, origin, trip.hours, false);
    return awayDay(sim, user, day, trip.dest);
  }
  if (weekend) return homeDay(sim, user, day, true);
  const wfh = user.starlink ? user.rng.chance(0.7) : user.rng.chance(user.wfhPerWeek / 5);
  return wfh ? homeDay(sim, user, day, false) : officeDay(sim, user, day);
}

