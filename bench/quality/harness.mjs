// Runs a simulation through the real pipeline, embedded exactly as `replayguard rules test` builds it
// (MemoryWindowStore, MemoryBaselineStore, MemoryIncidentStore on the event clock, RuleEngine, the real
// enricher), with the shipped rule pack and lists, and keeps the books: which event of which labelled session
// each detection came from, and when each of the two baselines would have fired.
import { join } from 'node:path';
import { pino } from 'pino';
import { createEnricher } from '../../dist/enrich/index.js';
import { normalizeOne, SessionHasher } from '../../dist/events/normalize.js';
import { MemoryIncidentStore } from '../../dist/incidents/memory-store.js';
import { Metrics } from '../../dist/observability/metrics.js';
import { Pipeline } from '../../dist/pipeline/pipeline.js';
import { RuleEngine } from '../../dist/rules/engine.js';
import { CidrSet, loadListDir, NetworkLists } from '../../dist/rules/lists.js';
import { loadRuleDir } from '../../dist/rules/loader.js';
import { MemoryBaselineStore } from '../../dist/state/memory/baseline-store.js';
import { MemoryWindowStore } from '../../dist/state/memory/window-store.js';
import { AnyIpChange, ClassicTravel } from './baselines.mjs';
import { createSimulation, SIM_START } from './simulate.mjs';

const KEY = 'replayguard-quality-bench-fixed-key-0123456789';

/**
 * The rule pack as shipped, with one deployment step an operator is told to take (rules/lists/
 * corporate-egress.yaml: "fill in your ranges"): the simulated tenants' office NAT and VPN egress addresses
 * replace the placeholder. Nothing else is added.
 */
/** The shipped rule pack, with the simulated tenants' office and VPN egress in place of the two placeholder lists. */
export async function loadRulePack(rulesDir, egress) {
  const loaded = await loadRuleDir(rulesDir);
  if (loaded.errors.length > 0) throw new Error(`rule pack has errors:\n${loaded.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')}`);
  const { lists } = await loadListDir(join(rulesDir, 'lists'));
  const operator = [['corporate-egress', 'corporate', egress.corporate], ['vpn-egress', 'vpn', egress.vpn]].map(([name, cls, ips]) => ({
    name,
    class: cls,
    file: '(bench: the simulated tenants\' egress)',
    asns: new Set(),
    cidrs: new CidrSet(ips.map((ip) => `${ip}/32`)),
  }));
  const merged = [...lists.filter((l) => !operator.some((o) => o.name === l.name)), ...operator];
  return { rules: loaded.rules, lists: new NetworkLists(merged), listNames: lists.map((l) => l.name) };
}

export class Books {
  /** session HMAC → label */
  labelBySession = new Map();
  /** event id → where it sits in its labelled session; only for the batch being processed */
  batch = new Map();
  /** incident id → what we know of it */
  incidents = new Map();
  baselines = [new AnyIpChange(), new ClassicTravel()];

  admit(event, item) {
    const l = item.label;
    l.seq++;
    if (!this.labelBySession.has(event.session)) this.labelBySession.set(event.session, l);
    if (item.mal && l.firstMalSeq === undefined) l.firstMalSeq = l.seq;
    this.batch.set(event.id, { label: l, seq: l.seq, time: event.time });
  }

  /** after the attack began (on an attack session), or never (benign) */
  static afterAttack(label, seq) {
    return label.firstMalSeq !== undefined && seq >= label.firstMalSeq;
  }

  enricher(inner) {
    return {
      enrich: (event, classify) => {
        const e = inner.enrich(event, classify);
        const at = this.batch.get(event.id);
        if (at) {
          for (const [i, b] of this.baselines.entries()) {
            if (!b.observe(e)) continue;
            const hits = (at.label.baseline ??= [{}, {}])[i];
            hits.any ??= { seq: at.seq, time: at.time };
            if (Books.afterAttack(at.label, at.seq)) hits.post ??= { seq: at.seq, time: at.time };
            else hits.pre ??= { seq: at.seq, time: at.time };
          }
        }
        return e;
      },
    };
  }

  incidentStore(inner) {
    return {
      kind: inner.kind,
      record: async (d) => {
        const res = await inner.record(d);
        const at = this.batch.get(d.event_id);
        const label = at?.label ?? this.labelBySession.get(d.session);
        let inc = this.incidents.get(res.incident.id);
        if (!inc) {
          inc = { id: res.incident.id, rule: d.rule.id, severity: d.severity, label, alert: undefined, monitorHits: 0, hits: 0, suppressed: 0 };
          this.incidents.set(res.incident.id, inc);
        }
        inc.hits++;
        if (res.outcome === 'suppressed') inc.suppressed++;
        const emitted = res.outcome === 'created' || res.outcome === 'updated';
        if (d.monitor) inc.monitorHits++;
        if (emitted && !d.monitor && at) {
          if (!inc.alert) {
            inc.alert = { seq: at.seq, time: d.time };
            // kept for explain.mjs (why a false positive fired)
            inc.reason = d.evidence.reason;
            inc.details = d.evidence.details;
            inc.ips = d.evidence.ips;
            inc.trigger = d.evidence.trigger_ip;
          }
          if (Books.afterAttack(label, at.seq)) {
            label.detected ??= { seq: at.seq, time: d.time, rule: d.rule.id };
            (label.rulesHit ??= new Set()).add(d.rule.id);
          }
        }
        return res;
      },
      get: (id) => inner.get(id),
      list: (q) => inner.list(q),
      close: () => inner.close(),
    };
  }
}

/**
 * @returns the labels (sessions) with their detections, the incidents, the run's parameters and timings
 */
/**
 * One event per `Pipeline.process` call by default: the pipeline observes a whole batch before it links
 * rotations, so with larger batches a rotated-to session's events that share a batch with their rotate are
 * judged without the carried-over window, and the figures would depend on where batches happen to split.
 */
export async function runQuality({ rulesDir = 'rules', batchSize = 1, onProgress, shard = 0, shards = 1, ...simOpts } = {}) {
  const t0 = performance.now();
  const enricher = await createEnricher();
  const simulation = await createSimulation({ ...simOpts, enricher });
  const pack = await loadRulePack(rulesDir, simulation.sim.world.egress);
  const books = new Books();
  const metrics = new Metrics();
  const pipeline = new Pipeline({
    enricher: books.enricher(enricher),
    windows: new MemoryWindowStore(),
    baselines: new MemoryBaselineStore(),
    rules: new RuleEngine(pack.rules, pack.lists, () => SIM_START),
    incidents: books.incidentStore(new MemoryIncidentStore((d) => d.time)),
    metrics,
    logger: pino({ level: 'silent' }),
  });
  const hasher = new SessionHasher(KEY);
  const t1 = performance.now();
  let events = 0;
  let day = 0;
  for (const chunk of simulation.chunks({ shard, shards })) {
    for (let i = 0; i < chunk.length; i += batchSize) {
      books.batch.clear();
      const batch = [];
      for (const item of chunk.slice(i, i + batchSize)) {
        const n = normalizeOne(item.canonical, hasher);
        if (!n.ok) throw new Error(`simulated event rejected (${n.code}): ${n.message}: ${JSON.stringify(item.canonical)}`);
        books.admit(n.event, item);
        batch.push(n.event);
      }
      await pipeline.process(batch);
      events += batch.length;
    }
    onProgress?.({ day: day++, events });
  }
  const t2 = performance.now();
  // An incident that never had a non-monitor hit stayed in monitor mode: recorded for review, not an alert.
  for (const inc of books.incidents.values()) inc.monitorOnly = inc.alert === undefined;
  const skips = {};
  for (const v of (await metrics.ruleSkips.get()).values) skips[`${v.labels.rule}:${v.labels.reason}`] = v.value;
  const { enricher: _enricher, ...options } = simulation.options;
  return {
    options,
    shards,
    labels: simulation.labels,
    incidents: [...books.incidents.values()],
    world: simulation.sim.world,
    nets: simulation.sim.nets,
    rules: pack.rules.map((r) => r.rule.id),
    baselineNames: books.baselines.map((b) => b.name),
    events,
    skips,
    timings: { setupMs: t1 - t0, pipelineMs: t2 - t1 },
  };
}
