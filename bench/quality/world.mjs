// The simulated population: two tenants with offices in seven countries, their corporate egress (office NAT
// and VPN concentrators), and the employees: where they live (their home address), their ISP and mobile
// carrier, their devices, and the habits that decide which kinds of day they have.
import { CLI_MIX, Device, LAPTOP_MIX, PHONE_MIX } from './agents.mjs';
import { CITIES, OFFICES, REGION, TRAIN_ROUTES, VPN_GATEWAYS } from './places.mjs';

const HOME_ISPS = {
  US: [['comcast', 35], ['charter', 25], ['att', 25], ['verizon-fios', 15]],
  CA: [['bell', 40], ['rogers', 35], ['videotron', 25]],
  GB: [['bt', 55], ['virgin', 45]],
  DE: [['dtag', 60], ['vodafone-de', 40]],
  FR: [['orange', 45], ['free', 30], ['sfr', 25]],
  AU: [['telstra', 55], ['optus', 45]],
  JP: [['ntt-ocn', 55], ['kddi', 45]],
};

const MOBILE_CARRIERS = {
  US: [['tmobile-us', 50], ['verizon-wireless', 50]],
  CA: [['rogers-wireless', 100]],
  GB: [['vodafone-uk', 100]],
  DE: [['telefonica-de', 100]],
  FR: [['orange-mobile', 100]],
  AU: [['telstra-mobile', 100]],
  JP: [['docomo', 55], ['softbank', 45]],
};

/** How common each habit is. Rare ones are over-represented so every benign class has enough sessions. */
export const HABITS = {
  /** share of users on a dual-stack home line (where the ISP has IPv6 in the data) */
  ipv6: 0.75,
  /** share of users behind their ISP's carrier-grade NAT (a few public addresses shared by many users) */
  cgnat: 0.12,
  /** share of users (in countries where the data has Starlink addresses) on Starlink at home */
  starlink: 0.05,
  /** share of iPhone users with iCloud Private Relay on */
  relay: 0.4,
  /** share of users who work from home on the corporate VPN */
  vpn: 0.35,
  /** share of users whose VPN gateway is the tenant's HQ in another country rather than the regional one */
  vpnAbroad: 0.15,
  /** share of field workers (out on mobile data most office days) */
  field: 0.1,
  /** share of users owning a tablet */
  tablet: 0.3,
  /** share of users who fly abroad once during the simulated weeks */
  plane: 0.14,
  /** share of users (whose city is on a rail route) who take a train trip */
  train: 0.2,
  /** share of devices whose browser gets a major update during the simulated weeks */
  update: 0.8,
  /** share of users who run a CLI or their own scripts against the API from their laptop */
  developer: 0.15,
};

function mix(rng, table) {
  return rng.weighted(table);
}

/** Two addresses near a city, from the business pools first, else from a home ISP's business lines. */
function egressNear(rng, pools, cityKey, km = 60) {
  const city = CITIES[cityKey];
  const candidates = [];
  for (const key of ['cogent', 'zayo', ...HOME_ISPS[city.country].map(([k]) => k)]) {
    const near = pools[key].select({ country: city.country, near: city, km });
    if (near.length >= 2) candidates.push(...near.map((a) => ({ ...a, pool: key })));
    if (candidates.length >= 6) break;
  }
  if (candidates.length < 2) {
    for (const [k] of HOME_ISPS[city.country]) candidates.push(...pools[k].select({ country: city.country }).map((a) => ({ ...a, pool: k })));
  }
  const first = rng.pick(candidates);
  const same = candidates.filter((a) => a.pool === first.pool && a.ip !== first.ip);
  return [first, rng.pick(same.length > 0 ? same : candidates)];
}

export function buildWorld(rng, nets, { users: userCount, days, measuredFrom }) {
  const { pools } = nets;
  const offices = {};
  const gateways = {};
  for (const [tenant, cities] of Object.entries(OFFICES)) {
    for (const c of cities) offices[`${tenant}:${c}`] = { tenant, city: c, ...CITIES[c], egress: egressNear(rng.fork(`office:${tenant}:${c}`), pools, c) };
    gateways[tenant] = {};
    for (const [region, c] of Object.entries(VPN_GATEWAYS[tenant])) gateways[tenant][region] = { city: c, ...CITIES[c], egress: egressNear(rng.fork(`vpn:${tenant}:${region}`), pools, c, 80) };
  }
  // Carrier-grade NAT: per ISP and office city, three public addresses shared by every CGNAT user there.
  const cgnatSets = new Map();
  const cgnatFor = (r, ispKey, office) => {
    const key = `${ispKey}:${office.city}`;
    let set = cgnatSets.get(key);
    if (!set) {
      const p = pools[ispKey];
      set = [p.pickNear(r, office, 80), p.pickNear(r, office, 80), p.pickNear(r, office, 80)];
      cgnatSets.set(key, set);
    }
    return set;
  };
  const starlinkCountries = new Set(pools.starlink.countries().filter((cc) => pools.starlink.select({ country: cc }).length >= 5));

  const officeList = Object.values(offices);
  const users = [];
  for (let i = 0; i < userCount; i++) {
    const r = rng.fork(`user:${i}`);
    const office = r.pick(officeList);
    const country = office.country;
    const user = {
      index: i,
      id: `user${String(i).padStart(5, '0')}@${office.tenant}.example`,
      tenant: office.tenant,
      country,
      office,
      region: REGION[country],
      rng: r,
    };
    // Home: an address of the user's ISP that the databases place near the office city (or only at country
    // level): people live within commuting distance of their office.
    user.ispKey = mix(r, HOME_ISPS[country]);
    user.starlink = starlinkCountries.has(country) && r.chance(HABITS.starlink);
    user.cgnat = !user.starlink && r.chance(HABITS.cgnat);
    if (user.starlink) {
      user.ispKey = 'starlink';
      user.home = pools.starlink.pickIn(r, country);
    } else if (user.cgnat) {
      user.cgnatSet = cgnatFor(rng.fork(`cgnat:${user.ispKey}:${office.city}`), user.ispKey, office);
      user.home = r.pick(user.cgnatSet);
    } else {
      user.home = pools[user.ispKey].pickNear(r, office, 60);
    }
    const v6pool = pools[user.ispKey];
    user.home6 = !user.starlink && !user.cgnat && v6pool.prefixes6.length > 0 && r.chance(HABITS.ipv6) ? r.pick(v6pool.prefixes6) : undefined;
    user.mobileKey = mix(r, MOBILE_CARRIERS[country]);
    user.gateway = r.chance(HABITS.vpnAbroad) ? gateways[user.tenant][r.pick(Object.keys(gateways[user.tenant]).filter((g) => g !== user.region))] : gateways[user.tenant][user.region];
    user.vpn = r.chance(HABITS.vpn);
    user.field = r.chance(HABITS.field);
    user.wfhPerWeek = r.weighted([[0, 25], [1, 25], [2, 30], [3, 15], [5, 5]]);
    const laptop = new Device(mix(r, LAPTOP_MIX), user, 0);
    const phone = new Device(mix(r, PHONE_MIX), user, 1);
    user.devices = [laptop, phone];
    if (r.chance(HABITS.tablet)) user.devices.push(new Device('ipad-safari', user, 2));
    user.relay = phone.kind === 'iphone-safari' && r.chance(HABITS.relay);
    // From a stream of its own, so that adding developers does not reshuffle anyone's other traffic.
    const cli = rng.fork(`cli:${i}`);
    if (cli.chance(HABITS.developer)) user.cli = { rng: cli, device: new Device(mix(cli, CLI_MIX), user, 3) };
    // One browser update per updating device, at a random moment of a measured or warm-up day.
    for (const d of user.devices) {
      if (r.chance(HABITS.update)) d.updateDay = r.int(1, days - 1);
    }
    // Trips: one flight abroad (to another office of the tenant), or one train journey from the user's city.
    if (r.chance(HABITS.plane)) {
      const abroad = officeList.filter((o) => o.tenant === user.tenant && o.country !== country);
      const dest = r.pick(abroad);
      const start = r.int(Math.max(1, measuredFrom - 4), days - 4);
      user.trip = { kind: 'plane', dest, start, end: Math.min(days - 1, start + r.int(2, 5)) };
    } else {
      const routes = TRAIN_ROUTES.filter(([a, b]) => a === office.city || b === office.city);
      if (routes.length > 0 && r.chance(HABITS.train)) {
        const [a, b, hours] = r.pick(routes);
        const destCity = a === office.city ? b : a;
        const start = r.int(Math.max(1, measuredFrom - 3), days - 3);
        user.trip = { kind: 'train', dest: { city: destCity, ...CITIES[destCity] }, hours, start, end: Math.min(days - 1, start + r.int(1, 3)) };
      }
    }
    users.push(user);
  }

  const corporate = [];
  for (const o of Object.values(offices)) for (const a of o.egress) corporate.push(a.ip);
  const vpn = [];
  for (const t of Object.values(gateways)) for (const g of Object.values(t)) for (const a of g.egress) vpn.push(a.ip);
  // What an operator puts in rules/lists/corporate-egress.yaml and rules/lists/vpn-egress.yaml.
  return { users, offices, gateways, egress: { corporate: [...new Set(corporate)], vpn: [...new Set(vpn)] } };
}
