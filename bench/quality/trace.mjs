#!/usr/bin/env node
// Traces one simulated user through the pipeline: every event of their sessions with its address, the simulated
// network it came from, its network class, and what each rule said. A tuning aid, like explain.mjs.
//
//   node bench/quality/trace.mjs --user user00156 [--users 300] [--attacks 40] [--device android-chrome] [--from-day 14]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createEnricher } from '../../dist/enrich/index.js';
import { SessionHasher, normalizeOne } from '../../dist/events/normalize.js';
import { Metrics } from '../../dist/observability/metrics.js';
import { Pipeline } from '../../dist/pipeline/pipeline.js';
import { RuleEngine } from '../../dist/rules/engine.js';
import { MemoryBaselineStore } from '../../dist/state/memory/baseline-store.js';
import { MemoryIncidentStore } from '../../dist/incidents/memory-store.js';
import { MemoryWindowStore } from '../../dist/state/memory/window-store.js';
import { loadRulePack } from './harness.mjs';
import { SIM_START, createSimulation } from './simulate.mjs';

const { values: o } = parseArgs({ options: {
  user: { type: 'string' }, users: { type: 'string', default: '300' }, attacks: { type: 'string', default: '40' },
  device: { type: 'string' }, 'from-day': { type: 'string', default: '0' }, rules: { type: 'string', default: 'rules' }, all: { type: 'boolean', default: false }, seed: { type: 'string' },
} });
const enricher = await createEnricher();
const simulation = await createSimulation({ users: Number(o.users), attacks: Number(o.attacks), enricher, ...(o.seed ? { seed: o.seed } : {}) });
const pack = await loadRulePack(resolve(o.rules), simulation.sim.world.egress);
const roleOf = new Map();
for (const p of Object.values(simulation.sim.nets.pools)) for (const a of p.addrs) roleOf.set(a.ip, p.key);
for (const p of Object.values(simulation.sim.nets.pools)) for (const a of p.prefixes6) roleOf.set(a.prefix, p.key);
for (const off of Object.values(simulation.sim.world.offices)) for (const a of off.egress) roleOf.set(a.ip, `office:${off.city}`);
for (const t of Object.values(simulation.sim.world.gateways)) for (const g of Object.values(t)) for (const a of g.egress) roleOf.set(a.ip, `vpn:${g.city}`);
const role = (ip) => roleOf.get(ip) ?? roleOf.get(ip.split(':').slice(0, 4).join(':')) ?? '?';

const rules = new RuleEngine(pack.rules, pack.lists, () => SIM_START);
const incidents = new MemoryIncidentStore((d) => d.time);
const seen = [];
const record = incidents.record.bind(incidents);
incidents.record = async (d) => { const r = await record(d); seen.push(`${r.outcome}:${d.rule.id}${d.monitor ? '(monitor)' : ''}${d.details?.previous_network ? `[from ${role(d.details.previous_network)}]` : ''}`); return r; };
const pipeline = new Pipeline({ enricher, windows: new MemoryWindowStore(), baselines: new MemoryBaselineStore(), rules, incidents, metrics: new Metrics(), logger: pino({ level: 'silent' }) });
const hasher = new SessionHasher('trace-key-trace-key-trace-key-00');
const fromTime = SIM_START + Number(o['from-day']) * 86_400_000;
for (const chunk of simulation.chunks()) {
  for (const item of chunk) {
    const c = item.canonical;
    const mine = c.user_id?.split('@')[0] === o.user;
    if (!mine && !o.all) continue;
    const n = normalizeOne(c, hasher);
    if (!n.ok) continue;
    seen.length = 0;
    await pipeline.process([n.event]);
    if (!mine) continue;
    if (c.time < fromTime || (o.device && !item.label?.device?.includes(o.device))) continue;
    const e = pipeline.enrich(n.event);
    const hits = seen.join(' ');
    console.log(`${new Date(c.time).toISOString().slice(5, 16)} ${item.label?.cls ?? ''} ${item.label?.device ?? ''} ${c.session_id.slice(5, 14)} ${c.type} ${c.ip} ${role(c.ip)} ${e.geo.country ?? '-'}/${e.geo.city ?? '-'} as${e.as?.number ?? '-'} ${e.net_class ?? ''} ${hits}`);
  }
}
