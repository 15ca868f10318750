#!/usr/bin/env node
// The traffic simulator of the quality bench: a seeded population of employees living several weeks of
// ordinary (benign) life across home broadband, mobile carriers, offices, VPNs, relays, satellites, trains
// and planes, with labelled attacks on some of their sessions. Every address is a real address of a real AS,
// checked with the real enricher (networks.mjs). See docs/quality.md for the classes and their parameters.
//
//   node bench/quality/simulate.mjs [--seed S] [--users N] [--days D] [--warmup W] [--attacks K] [--labels FILE]
//
// prints the canonical events (NDJSON, time order) on stdout, for `replayguard scan -` or any other tool, and
// with --labels writes one JSON line per session: its class, user, ids and first malicious event.
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { injectAttack, prepareAttack, scheduleAttacks } from './attacks.mjs';
import { userDay } from './benign.mjs';
import { buildNetworks } from './networks.mjs';
import { Rng } from './rng.mjs';
import { DAY, HOUR } from './sessions.mjs';
import { buildWorld } from './world.mjs';

/** The simulated weeks start on a Monday. */
export const SIM_START = Date.parse('2026-10-05T00:00:00Z');

export const DEFAULTS = { seed: 'replayguard-quality-1', users: 1000, days: 28, warmup: 14, attacks: 200 };

/**
 * @param {{seed: string, users: number, days: number, warmup: number, attacks: number, enricher: import('../../dist/enrich/index.js').Enricher}} opts
 */
export async function createSimulation(opts) {
  const o = { ...DEFAULTS, ...opts };
  const rng = new Rng(o.seed);
  const nets = await buildNetworks(o.enricher, rng.fork('networks'));
  const sim = {
    start: SIM_START,
    measuredFrom: SIM_START + o.warmup * DAY,
    nets,
    world: undefined,
    /** per user, so that a user's traffic is the same whichever users a shard generates */
    newSessionId(user) {
      user.sessions = (user.sessions ?? 0) + 1;
      return `sess-${user.index.toString(36)}-${user.sessions.toString(36)}-${user.rng.hex(20)}`;
    },
  };
  sim.world = buildWorld(rng.fork('world'), nets, { users: o.users, days: o.days, measuredFrom: o.warmup });
  const schedule = scheduleAttacks(rng.fork('attacks'), sim.world.users, { perClass: o.attacks, measuredFrom: o.warmup, days: o.days });
  const labels = [];

  function label(session, attack) {
    const mal = session.events.filter((e) => e.mal);
    const first = session.events[0].t;
    const l = {
      id: labels.length,
      cls: attack ?? session.benignClass(),
      kind: attack ? 'attack' : 'benign',
      user: session.user.id,
      userIndex: session.user.index,
      tenant: session.user.tenant,
      device: session.device.kind,
      start: first,
      measured: first >= sim.measuredFrom,
      sids: session.sids,
      how: session.how,
      firstMalTime: mal.length > 0 ? Math.min(...mal.map((e) => e.t)) : undefined,
      events: session.events.length,
      // filled in by the runner
      seq: 0,
      firstMalSeq: undefined,
    };
    labels.push(l);
    return l;
  }

  function toEvents(session, l) {
    const u = session.user;
    return session.events.map((e) => {
      u.eventCount = (u.eventCount ?? 0) + 1;
      const c = { id: `e-${u.index.toString(36)}-${u.eventCount.toString(36)}`, time: e.t, type: e.type, session_id: e.sid, user_id: u.id, tenant: u.tenant, ip: e.ip };
      if (e.ua !== undefined) c.user_agent = e.ua;
      if (e.nsid !== undefined) c.new_session_id = e.nsid;
      return { canonical: c, label: l, mal: e.mal === true };
    });
  }

  /**
   * Time-ordered chunks of events: each local day is generated, then everything before it is released.
   * With `shards` > 1 only the users of one shard (index mod shards) are generated: users share no state
   * in the pipeline (windows are per session, baselines per user), so shards can run in parallel.
   */
  function* chunks({ shard = 0, shards = 1 } = {}) {
    let pending = [];
    for (let day = 0; day < o.days; day++) {
      for (const user of sim.world.users) {
        if (user.index % shards !== shard) continue;
        const sessions = userDay(sim, user, day);
        const cls = schedule.get(`${user.index}:${day}`);
        let prep = cls ? prepareAttack(cls, sessions) : undefined;
        if (prep && prep.victim === undefined && cls !== 'aitm-script') prep = undefined; // no session to attack
        const finished = sessions.filter((s) => s.finish(s === prep?.victim ? prep.finish : undefined));
        let attackSession;
        if (prep) attackSession = injectAttack(sim, cls, user, day, prep.victim, rng.fork(`attack:${user.index}:${day}`));
        if (attackSession && !finished.includes(attackSession)) finished.push(attackSession);
        for (const s of finished) pending.push(...toEvents(s, label(s, s === attackSession ? cls : undefined)));
      }
      // Sessions of later local days begin after local 05:00, i.e. after UTC midnight minus 11 h at the latest.
      const boundary = SIM_START + (day + 1) * DAY - 12 * HOUR;
      pending.sort((a, b) => a.canonical.time - b.canonical.time);
      let k = 0;
      while (k < pending.length && pending[k].canonical.time < boundary) k++;
      yield pending.slice(0, k);
      pending = pending.slice(k);
    }
    yield pending;
  }

  return { sim, options: o, labels, schedule, chunks };
}

async function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
  );
  const { createEnricher } = await import('../../dist/enrich/index.js');
  const opts = { enricher: await createEnricher() };
  for (const k of ['users', 'days', 'warmup', 'attacks']) if (args[k] !== undefined) opts[k] = Number(args[k]);
  if (args.seed !== undefined) opts.seed = args.seed;
  const s = await createSimulation(opts);
  const out = process.stdout;
  for (const chunk of s.chunks()) {
    let buf = '';
    for (const e of chunk) buf += JSON.stringify({ ...e.canonical, time: new Date(e.canonical.time).toISOString() }) + '\n';
    if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
  }
  if (args.labels) {
    const w = createWriteStream(args.labels);
    for (const l of s.labels) w.write(JSON.stringify({ cls: l.cls, kind: l.kind, user: l.user, tenant: l.tenant, device: l.device, session_ids: l.sids, start: new Date(l.start).toISOString(), measured: l.measured, first_malicious: l.firstMalTime === undefined ? undefined : new Date(l.firstMalTime).toISOString(), how: l.how }) + '\n');
    w.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
