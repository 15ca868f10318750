// The pipeline, wired once: enrich → observe → evaluate → decide. The same object runs behind the HTTP
// API (embedded), the BullMQ worker and `replayguard scan`; only the stores behind it differ.
import type { Enricher } from '../enrich/index.js';
import type { AuthEvent, EnrichedEvent } from '../events/schema.js';
import type { Detection, Incident } from '../incidents/model.js';
import type { IncidentStore, RecordOutcome, RecordResult } from '../incidents/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuleEngine } from '../rules/engine.js';
import type { BaselineStore, UserObservation, UserSnapshot } from '../state/baseline.js';
import type { Observation, WindowSnapshot, WindowStore } from '../state/window.js';
import { toObservation, toUserObservation } from './observations.js';

export interface IncidentChange {
  incident: Incident;
  outcome: Extract<RecordOutcome, 'created' | 'updated'>;
}

export interface PipelineDeps {
  enricher: Enricher;
  windows: WindowStore;
  baselines: BaselineStore;
  rules: RuleEngine;
  incidents: IncidentStore;
  metrics: Metrics;
  logger: Logger;
  /** called for every created or updated (not suppressed) incident: sinks, revocation */
  onIncident?: (change: IncidentChange) => void | Promise<void>;
}

export interface BatchResult {
  processed: number;
  duplicates: number;
  detections: number;
  changes: IncidentChange[];
}

/** Records detections: those of one incident (rule, tenant, session) one after another in order, incidents concurrently. */
async function recordInOrder(incidents: IncidentStore, detections: readonly Detection[]): Promise<RecordResult[]> {
  if (detections.length === 0) return [];
  if (detections.length === 1) return [await incidents.record(detections[0]!)];
  const chains = new Map<string, number[]>();
  detections.forEach((d, k) => {
    const key = `${d.rule.id}\u0000${d.tenant}\u0000${d.session}`;
    const chain = chains.get(key);
    if (chain) chain.push(k);
    else chains.set(key, [k]);
  });
  const out: RecordResult[] = new Array(detections.length);
  await Promise.all([...chains.values()].map(async (chain) => {
    for (const k of chain) out[k] = await incidents.record(detections[k]!);
  }));
  return out;
}

/** Events per step when the stores are in memory (see process). */
const MEMORY_CHUNK = 64;

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  get rules(): RuleEngine {
    return this.deps.rules;
  }

  enrich(event: AuthEvent): EnrichedEvent {
    const rules = this.deps.rules;
    // The class of an address depends only on the lists, its AS and the proxy flag: kept until the lists change.
    if (rules.lists !== this.#classLists) {
      this.#classes.clear();
      this.#classLists = rules.lists;
    }
    return this.deps.enricher.enrich(event, (e) => {
      // By address, with the AS and proxy flag it was classified with (a source may give others for it).
      let c = this.#classes.get(e.ip);
      if (c === undefined || c.asn !== e.as?.number || c.proxy !== e.is_proxy) {
        c = { asn: e.as?.number, proxy: e.is_proxy, cls: rules.classify(e) };
        if (this.#classes.size >= 100_000) this.#classes.clear();
        this.#classes.set(e.ip, c);
      }
      return c.cls;
    });
  }

  readonly #classes = new Map<string, { asn: number | undefined; proxy: boolean | undefined; cls: string | undefined }>();
  #classLists: unknown;

  async process(events: readonly AuthEvent[]): Promise<BatchResult> {
    // A rotation carries the old session's history into the new one; events after a rotate must see that
    // link, so the batch is cut after each rotate (results never depend on where batches happen to split).
    const total: BatchResult = { processed: 0, duplicates: 0, detections: 0, changes: [] };
    // In memory nothing is saved by large batches, while everything a batch allocates lives until its end: past the
    // young generation's size, the collector copies it all (about a third of scan's time at 1 000 events a batch).
    const chunk = this.deps.windows.kind === 'memory' ? MEMORY_CHUNK : Infinity;
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      if (events[i]!.type !== 'rotate' && i !== events.length - 1 && i + 1 - start < chunk) continue;
      const r = await this.#processSegment(events.slice(start, i + 1));
      total.processed += r.processed;
      total.duplicates += r.duplicates;
      total.detections += r.detections;
      total.changes.push(...r.changes);
      start = i + 1;
    }
    return total;
  }

  async #processSegment(events: readonly AuthEvent[]): Promise<BatchResult> {
    const { windows, baselines } = this.deps;
    const result: BatchResult = { processed: events.length, duplicates: 0, detections: 0, changes: [] };
    const detections: Detection[] = [];
    if (windows.observeLive && baselines.observeLive) {
      // Stores in this process: each event is observed and judged at once, against the live window and baseline
      // (valid until the next event is observed), so the stores copy nothing per event. Same windows, same order.
      for (const e of events) {
        const event = this.enrich(e);
        const uo = toUserObservation(event);
        const window = windows.observeLive(toObservation(event));
        await this.#judge(event, window, uo ? baselines.observeLive(uo) : undefined, result, detections);
      }
    } else {
      const enriched = events.map((e) => this.enrich(e));
      const userObs: UserObservation[] = [];
      const userIndex: number[] = [];
      const observations: Observation[] = new Array(enriched.length);
      enriched.forEach((e, i) => {
        const o = toUserObservation(e);
        if (o) {
          userIndex[i] = userObs.length;
          userObs.push(o);
        }
        observations[i] = toObservation(e);
      });
      const [snapshots, users] = await Promise.all([windows.observe(observations), baselines.observe(userObs)]);
      // Evaluate every event first (rules are pure), then record the detections.
      for (let i = 0; i < enriched.length; i++) {
        await this.#judge(enriched[i]!, snapshots[i]!, userIndex[i] === undefined ? undefined : users[userIndex[i]!], result, detections);
      }
    }
    return this.#record(events.length, detections, result);
  }

  /** Runs the rules on one observed event; its detections are recorded with the batch's (see #record). */
  async #judge(event: EnrichedEvent, window: WindowSnapshot, user: UserSnapshot | undefined, result: BatchResult, detections: Detection[]): Promise<void> {
    const { windows, rules, metrics, logger } = this.deps;
    if (window.duplicate) result.duplicates++;
    if (event.type === 'rotate' && event.new_session !== undefined) {
      await windows.linkRotation(event.new_session, { session: event.session, time: event.time, snapshot: window });
    }
    // Duplicates are evaluated too: if a worker died between observe and record, the re-delivery is
    // what records the incident. The incident store ignores a trigger event it has already absorbed.
    const evaluation = rules.evaluate(user ? { event, window, user } : { event, window });
    for (const f of evaluation.failures) {
      metrics.ruleErrors.inc({ rule: f.rule });
      logger.error({ rule: f.rule, event_id: event.id, err: f.error }, 'rule evaluation failed; the other rules still ran');
    }
    for (const s of evaluation.skips) metrics.ruleSkips.inc({ rule: s.rule, reason: s.reason });
    for (const x of evaluation.excepted) metrics.exceptionsApplied.inc({ rule: x.rule });
    for (const d of evaluation.detections) detections.push(d);
  }

  /**
   * Records a batch's detections: one chain per incident (dedup key), in event order within it, the chains
   * concurrently (each record is two round trips; a batch can hold hundreds of detections), then hands the
   * changes on in event order.
   */
  async #record(processed: number, detections: readonly Detection[], result: BatchResult): Promise<BatchResult> {
    const { incidents, metrics } = this.deps;
    const recorded = incidents.recordMany ? await incidents.recordMany(detections) : await recordInOrder(incidents, detections);
    for (let k = 0; k < detections.length; k++) {
      const d = detections[k]!;
      const { incident, outcome } = recorded[k]!;
      result.detections++;
      metrics.detections.inc({ rule: d.rule.id });
      metrics.incidents.inc({ rule: d.rule.id, outcome });
      if (outcome === 'unchanged' || outcome === 'suppressed') continue;
      const change: IncidentChange = { incident, outcome };
      result.changes.push(change);
      await this.deps.onIncident?.(change);
    }
    metrics.eventsProcessed.inc(processed);
    if (result.duplicates > 0) metrics.eventsDuplicate.inc(result.duplicates);
    return result;
  }
}
