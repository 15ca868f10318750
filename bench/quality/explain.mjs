#!/usr/bin/env node
// Why did the rule pack fire on benign sessions? Runs a (small) simulation in one process and prints the
// false-positive incidents grouped by rule and benign class, with the reason, the addresses involved and
// which simulated network each address came from (home ISP, carrier, office, VPN gateway, relay, ...).
// A tool for tuning the rule pack; not part of the figures.
//
//   node bench/quality/explain.mjs [--users 300] [--attacks 60] [--samples 4] [--rule ID] [--rules DIR]
import { resolve } from 'node:path';
import { runQuality } from './harness.mjs';
import { score } from './score.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const run = await runQuality({ rulesDir: resolve(args.rules ?? 'rules'), users: Number(args.users ?? 300), attacks: Number(args.attacks ?? 60), ...(args.seed ? { seed: args.seed } : {}) });
score(run);

const roleOf = new Map();
for (const p of Object.values(run.nets.pools)) {
  for (const a of p.addrs) roleOf.set(a.ip, p.key);
  for (const a of p.prefixes6) roleOf.set(a.prefix, p.key);
}
for (const o of Object.values(run.world.offices)) for (const a of o.egress) roleOf.set(a.ip, `office:${o.city}`);
for (const t of Object.values(run.world.gateways)) for (const g of Object.values(t)) for (const a of g.egress) roleOf.set(a.ip, `vpn:${g.city}`);
const role = (ip) => {
  if (!ip) return '?';
  const bare = ip.replace('/64', '');
  return roleOf.get(bare) ?? roleOf.get(bare.split(':').slice(0, 4).join(':')) ?? '?';
};

const groups = new Map();
for (const inc of run.incidents) {
  if (inc.verdict !== 'fp' || (inc.label.kind === 'benign' && !inc.label.measured)) continue;
  if (args.rule && inc.rule !== args.rule) continue;
  const key = `${inc.rule} | ${inc.label.cls}`;
  (groups.get(key) ?? groups.set(key, []).get(key)).push(inc);
}
for (const [key, incs] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`== ${key}: ${incs.length}`);
  for (const i of incs.slice(0, Number(args.samples ?? 4))) {
    const prev = i.details?.previous_network ? ` [${role(i.details.previous_network)} -> ${role(i.trigger)}]` : '';
    console.log(`   ${i.label.device} ${i.label.user}: ${i.reason}${prev}; ${i.ips.map((x) => `${x} (${role(x)})`).join(', ')}`);
  }
}
